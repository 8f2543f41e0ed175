"""The design the project grew from: two conv + max-pool blocks, a flatten, a hidden dense layer
and a softmax. Small and quick; enough for the demo sample, modest on real faces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from emotions.params import Section, fraction, integer, param

if TYPE_CHECKING:
    import keras

ANY_SIZE = False  # the flatten layer fixes the image size


@dataclass(frozen=True)
class Params(Section):
    DOC: ClassVar[str] = "conv, max-pool, conv, max-pool, flatten, dense, dense"
    conv1_filters: int = param(32, integer(minimum=1), "filters of the first conv")
    conv2_filters: int = param(64, integer(minimum=1), "filters of the second conv")
    kernel_size: int = param(3, integer(minimum=1, maximum=7), "side of both convs' kernels")
    dense_units: int = param(128, integer(minimum=1), "the hidden dense layer")
    dropout: float = param(0.25, fraction(allow_zero=True), "dropout before the hidden dense layer")


def smallest_size(p: Params) -> tuple[int, str]:
    """One pixel left after the two 2x2 max-pools; and how that is said in a message."""
    return 4, "2**2 (two max-pools)"


def build(image_size: int | None, channels: int, num_classes: int, p: Params) -> keras.Model:
    import keras

    assert image_size is not None, "the reference CNN's flatten layer needs a fixed image size"
    layers = [
        keras.Input(shape=(image_size, image_size, channels)),
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
