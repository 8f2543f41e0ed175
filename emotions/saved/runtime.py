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

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for model inputs (N, size, size, channels); (N, size, size) is one
        channel."""
        shaped = images[..., np.newaxis] if images.ndim == 3 else images
        batch = np.ascontiguousarray(shaped, dtype=np.float32)
        return self._session.run(None, {INPUT_NAME: batch})[0]


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

    @property
    def temperature(self) -> float:
        """The one the model's probabilities are calibrated with (1: not calibrated)."""
        return self._model.temperature

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for preprocessed images (N, size, size[, channels]), in batches."""
        if not len(images):
            return np.zeros((0, len(self.meta.classes)), np.float32)
        batches = range(0, len(images), BATCH_SIZE)
        return np.concatenate(
            [self._model.probabilities(images[i : i + BATCH_SIZE]) for i in batches]
        )
