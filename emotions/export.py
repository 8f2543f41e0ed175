"""Exporting the trained Keras model to ONNX, so predict runs on onnxruntime instead of importing
TensorFlow (seconds of start-up) for every call."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
import tf2onnx

from emotions.errors import UserError
from emotions.files import atomic_path
from emotions.runtime import INPUT_NAME, OnnxModel

OPSET = 17
logging.getLogger("tf2onnx").setLevel(logging.ERROR)  # its INFO lines bury the stage's own output

TOLERANCE = 1e-4  # largest difference allowed between Keras' and the export's probabilities


def to_onnx(model: keras.Model, path: Path) -> None:
    """Write ``model`` as ONNX with a dynamic batch size (float32, batch norm folded into the convs)."""
    signature = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME),)
    function = tf.function(lambda images: model(images, training=False))  # from_keras trips on Sequential models
    with atomic_path(path) as tmp:
        tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET, output_path=str(tmp))


def largest_difference(model: keras.Model, path: Path, images: np.ndarray) -> float:
    """The largest absolute difference between Keras and the ONNX file on the same inputs."""
    expected = model.predict(images[..., np.newaxis], batch_size=256, verbose=0)
    actual = OnnxModel(path).probabilities(images)
    return float(np.abs(expected - actual).max())


def export_checked(model: keras.Model, path: Path, images: np.ndarray) -> float:
    """Export, then check the export answers like Keras on real inputs; a mismatch stops the stage."""
    to_onnx(model, path)
    difference = largest_difference(model, path, images)
    if difference > TOLERANCE:
        path.unlink()
        raise UserError(f"{path}: exported model differs from Keras by {difference:.2e} (more than {TOLERANCE:g})")
    return difference
