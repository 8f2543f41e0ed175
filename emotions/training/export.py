"""Exporting the trained Keras model to ONNX, so predict runs on onnxruntime instead of importing
TensorFlow (seconds of start-up) for every call."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

from emotions.data.encoding import Encoding
from emotions.errors import UserError
from emotions.files import atomic_dir, atomic_path
from emotions.saved import bundle
from emotions.saved.runtime import INPUT_NAME, TEMPERATURE_KEY, OnnxModel
from emotions.training.keras_file import save_keras
from emotions.training.layers import temperature_of

OPSET = 17
logging.getLogger("tf2onnx").setLevel(logging.ERROR)  # its INFO lines bury the stage's own output

TOLERANCE = 1e-4  # largest difference allowed between Keras' and the export's probabilities
GENERATED_NAME = re.compile(
    r"(.+__\d+)(:\d+)?"
)  # a name tf2onnx made up, maybe with an output index


def _canonical(model: onnx.ModelProto) -> None:
    """Rename what tf2onnx adds (``name__N``, numbered by a process-wide counter in an order, and
    with a choice among equal constants, that vary from run to run) by where each first appears, and
    sort the constants: the same network gives the same bytes."""
    graph, names = model.graph, dict[str, str]()

    def renamed(name: str) -> str:
        match = GENERATED_NAME.fullmatch(name)
        if not match:
            return name
        return names.setdefault(match[1], f"tf2onnx__{len(names) + 1}") + (match[2] or "")

    for node in graph.node:
        node.name = renamed(node.name)
        node.input[:] = [renamed(name) for name in node.input]
        node.output[:] = [renamed(name) for name in node.output]
    for item in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]:
        item.name = renamed(item.name)
    constants = sorted(graph.initializer, key=lambda tensor: tensor.name)
    del graph.initializer[:]
    graph.initializer.extend(constants)


def describe(exported: onnx.ModelProto, meta: Encoding, temperature: float) -> None:
    """Write into the file what a user holding only it needs: the class order, the input size, how a
    face becomes an input (``emotions.data.imaging.preprocess``) and the temperature its
    probabilities are calibrated with (what evaluate reads to score them before and after)."""
    size, channels = meta.image_size, meta.channels
    face = "an 8-bit grayscale face" if meta.color == "gray" else "an 8-bit RGB face (R, G, B)"
    onnx.helper.set_model_props(
        exported,
        {
            "classes": json.dumps(list(meta.classes)),
            "image_size": str(size),
            "color": meta.color,
            "channels": str(channels),
            "face_detect": json.dumps(meta.face_detect),
            "input": (
                f"{INPUT_NAME}: float32 (N, {size}, {size}, {channels}), {face} resized to "
                f"{size}x{size} (OpenCV INTER_AREA when shrinking, INTER_LINEAR when enlarging) "
                "and divided by 255"
            ),
            "output": (
                "float32 (N, classes): each class's probability, in the order of the classes entry"
            ),
            TEMPERATURE_KEY: f"{temperature:g}",
            "calibration": (
                "the output is softmax(log(q) / temperature) of the network's own probabilities "
                "q, the temperature fitted on held-out faces so that the probabilities are "
                "calibrated; softmax(temperature * log(p)) gives q back (temperature 1: not "
                "calibrated)"
            ),
        },
    )
    exported.doc_string = f"Facial-emotion classifier: {', '.join(meta.classes)}."


def to_onnx(model: keras.Model, path: Path, meta: Encoding | None = None) -> None:
    """Write ``model`` as ONNX with a dynamic batch size (float32, batch norm folded into the
    convs), described by ``meta`` where given."""
    signature = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME),)
    function = tf.function(
        lambda images: model(images, training=False)
    )  # from_keras trips on Sequential models
    exported, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET)
    _canonical(exported)
    if meta is not None:
        describe(exported, meta, temperature_of(model))
    with atomic_path(path) as tmp:
        tmp.write_bytes(exported.SerializeToString())


def largest_difference(model: keras.Model, path: Path, images: np.ndarray) -> float:
    """The largest absolute difference between Keras and the ONNX file on the same inputs."""
    expected = model.predict(images, batch_size=256, verbose=0)
    actual = OnnxModel(path).probabilities(images)
    return float(np.abs(expected - actual).max())


def save_checked(model: keras.Model, meta: Encoding, model_dir: Path, images: np.ndarray) -> float:
    """Save the Keras file, export it, check the export answers like Keras on real inputs, and add
    meta.json, all in a temporary folder that replaces ``model_dir`` only when the check passed: a
    mismatch stops the stage and never leaves a new meta.json beside an old export. Returns the
    largest difference."""
    with atomic_dir(model_dir) as tmp:
        save_keras(model, tmp / bundle.MODEL_FILE)
        to_onnx(model, tmp / bundle.ONNX_FILE, meta)
        difference = largest_difference(model, tmp / bundle.ONNX_FILE, images)
        if not difference <= TOLERANCE:  # NaN compares false either way: it fails too
            raise UserError(
                f"{model_dir / bundle.ONNX_FILE}: exported model differs from Keras by "
                f"{difference:.2e} (more than {TOLERANCE:g})"
            )
        bundle.write_meta(meta, tmp)
    return difference
