"""The design the project grew from: two conv + max-pool blocks, a flatten, a hidden dense layer
and a softmax. Small and quick; enough for the demo sample, modest on real faces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emotions.params import _Section

if TYPE_CHECKING:
    import keras

ANY_SIZE = False  # the flatten layer fixes the image size


@dataclass(frozen=True)
class Params:
    conv1_filters: int
    conv2_filters: int
    kernel_size: int
    dense_units: int
    dropout: float  # before the hidden dense layer

    @classmethod
    def read(cls, s: _Section) -> Params:
        return cls(
            conv1_filters=s.integer("conv1_filters", minimum=1),
            conv2_filters=s.integer("conv2_filters", minimum=1),
            kernel_size=s.integer("kernel_size", minimum=1, maximum=7),
            dense_units=s.integer("dense_units", minimum=1),
            dropout=s.fraction("dropout", allow_zero=True),
        )


def smallest_size(p: Params) -> tuple[int, str]:
    """One pixel left after the two 2x2 max-pools; and how that is said in a message."""
    return 4, "2**2 (two max-pools)"


def build(image_size: int | None, num_classes: int, p: Params) -> keras.Model:
    import keras

    assert image_size is not None, "the reference CNN's flatten layer needs a fixed image size"
    layers = [
        keras.Input(shape=(image_size, image_size, 1)),
        keras.layers.Conv2D(p.conv1_filters, p.kernel_size, activation="relu", padding="same"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(p.conv2_filters, p.kernel_size, activation="relu", padding="same"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
    ]
    if p.dropout > 0:
        layers.append(keras.layers.Dropout(p.dropout))
    layers += [
        keras.layers.Dense(p.dense_units, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax", dtype="float32"),
    ]
    return keras.Sequential(layers, name="reference_cnn")
