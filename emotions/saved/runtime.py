"""Running the saved model with onnxruntime: preprocessed faces in, probabilities out, and no
TensorFlow import, so a prediction starts in a fraction of a second."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.capi.onnxruntime_pybind11_state import (
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    NoSuchFile,
)

from emotions.data.encoding import Encoding
from emotions.data.imaging import to_input
from emotions.data.store import Faces
from emotions.errors import UserError
from emotions.params import positive_number
from emotions.saved import bundle

INPUT_NAME = "images"
# in the file's metadata: the temperature its probabilities are calibrated with
TEMPERATURE_KEY = "temperature"
THREADS = 2  # the default; a benchmark of one core passes threads=1
BATCH_SIZE = 256  # faces per onnxruntime call
LOAD_ERRORS = (
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    NoSuchFile,
)  # what a damaged file raises


class OnnxModel:
    def __init__(self, path: Path, threads: int = THREADS) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        self._session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.temperature = _temperature(path, self._session.get_modelmeta().custom_metadata_map)
        self.path = path
        self._inputs, self._outputs = self._session.get_inputs(), self._session.get_outputs()

    def check(self, meta: Encoding) -> None:
        """The file must take what meta.json says its inputs are and answer for its classes:
        (N, size, size, channels) float32 in, (N, classes) out. A model folder put together from
        elsewhere is named here, before any work, not by onnxruntime midway."""
        want = (meta.image_size, meta.image_size, meta.channels)
        shapes = [tuple(i.shape) for i in self._inputs]
        if (
            len(self._inputs) != 1
            or self._inputs[0].type != "tensor(float)"
            or len(shapes[0]) != 4
            or any(isinstance(d, int) and d != w for d, w in zip(shapes[0][1:], want, strict=True))
        ):
            takes = ", ".join(f"{i.type} {s}" for i, s in zip(self._inputs, shapes, strict=True))
            raise UserError(
                f"{self.path}: takes {takes}, but {bundle.META_FILE} describes float32 faces "
                f"(N, {want[0]}, {want[1]}, {want[2]}) {bundle.RETRAIN}"
            )
        answers = [tuple(o.shape) for o in self._outputs]
        classes = len(meta.classes)
        answer = answers[0] if len(answers) == 1 else ()
        # a dimension of no fixed size (a name) is checked on the first answer instead
        if len(answer) != 2 or isinstance(answer[1], int) and answer[1] != classes:
            raise UserError(
                f"{self.path}: answers {', '.join(map(str, answers))}, but {bundle.META_FILE} "
                f"names {classes} classes {bundle.RETRAIN}"
            )

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for model inputs (N, size, size, channels); (N, size, size) is one
        channel."""
        shaped = images[..., np.newaxis] if images.ndim == 3 else images
        batch = np.ascontiguousarray(shaped, dtype=np.float32)
        return self._session.run(None, {self._inputs[0].name: batch})[0]


def _temperature(path: Path, metadata: Mapping[str, str]) -> float:
    """The temperature baked into the export (``emotions.training.export.describe``); 1 (none) for a
    file that records none."""
    text = metadata.get(TEMPERATURE_KEY, "1")
    value = positive_number(text)
    if value is None:
        raise UserError(
            f"{path}: its metadata's temperature {text!r} is not a number > 0 {bundle.RETRAIN}"
        )
    return value


def load(model_dir: Path, threads: int = THREADS) -> OnnxModel:
    """The exported model, ready to run; a truncated or corrupt file is named, not a traceback."""
    path = model_dir / bundle.ONNX_FILE
    if not path.is_file():
        raise bundle.missing(path)
    try:
        return OnnxModel(path, threads)
    except LOAD_ERRORS as err:
        reason = str(err).rpartition("failed:")[2].strip() or str(err)
        raise UserError(f"{path}: not a usable ONNX model ({reason}) {bundle.RETRAIN}") from None


class Predictor:
    """The saved model with its description: the classes, image size and face detection that
    preprocessing must match, and its probabilities computed in batches."""

    def __init__(self, model_dir: Path, threads: int = THREADS) -> None:
        self.meta = bundle.read_meta(model_dir)
        self._model = load(model_dir, threads)
        self._model.check(self.meta)

    @property
    def temperature(self) -> float:
        """The one the model's probabilities are calibrated with (1: not calibrated)."""
        return self._model.temperature

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for preprocessed images (N, size, size[, channels]), in batches."""
        if not len(images):
            return np.zeros((0, len(self.meta.classes)), np.float32)
        batches = range(0, len(images), BATCH_SIZE)
        answers = np.concatenate(
            [self._model.probabilities(images[i : i + BATCH_SIZE]) for i in batches]
        )
        if answers.shape[1:] != (len(self.meta.classes),):  # an output of dynamic size
            raise UserError(
                f"{self._model.path}: answered {answers.shape[1:]} values a face for "
                f"{len(self.meta.classes)} classes {bundle.RETRAIN}"
            )
        return answers

    def stored(self, faces: Faces, rows: np.ndarray) -> np.ndarray:
        """Class probabilities for the prepared faces ``rows``, read from their shards a batch at
        a time (what the faces held at once is set by the batch, not by their number)."""
        answers = [self.probabilities(to_input(chunk)) for chunk in faces.chunks(rows, BATCH_SIZE)]
        if not answers:
            return np.zeros((0, len(self.meta.classes)), np.float32)
        return np.concatenate(answers)
