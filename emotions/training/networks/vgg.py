"""A deeper CPU-friendly network for real faces: blocks of batch-normalised 3x3 convs and a
max-pool, filters doubling per block, ``convs`` convs per block (few in the large-resolution blocks,
where convs cost most); then global average pooling and a dense head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from emotions.params import Section, counts, fraction, integer, param

if TYPE_CHECKING:
    import keras

ANY_SIZE = True  # global pooling lets one set of weights take any image size


@dataclass(frozen=True)
class Params(Section):
    DOC: ClassVar[str] = (
        "deeper: blocks of batch-normalised convs, global average pooling, dense head"
    )
    width: int = param(
        32, integer(minimum=4), "filters of the first block, doubled by each next block"
    )
    convs: tuple[int, ...] = param(
        [1, 1, 2],
        counts(length=(1, 5), each=(1, 4)),
        "convs in each block (each ends in a 2x2 max-pool); length: the blocks",
    )
    dense_units: int = param(128, integer(minimum=1), "the hidden dense layer")
    dropout: float = param(
        0.25, fraction(allow_zero=True), "dropout before the hidden dense layer and after it"
    )


def smallest_size(p: Params) -> tuple[int, str]:
    """One pixel left after the last block's max-pool; and how that is said in a message."""
    return 2 ** len(p.convs), "2**len(model.vgg.convs)"


def build(image_size: int | None, channels: int, num_classes: int, p: Params) -> keras.Model:
    import keras

    layers: list[keras.layers.Layer] = [keras.Input(shape=(image_size, image_size, channels))]
    for block, convs in enumerate(p.convs):
        for _ in range(convs):
            layers += [
                keras.layers.Conv2D(p.width * 2**block, 3, padding="same", use_bias=False),
                keras.layers.BatchNormalization(),
                keras.layers.ReLU(),
            ]
        layers.append(keras.layers.MaxPooling2D(2))
    layers.append(keras.layers.GlobalAveragePooling2D())
    if p.dropout > 0:
        layers.append(keras.layers.Dropout(p.dropout))
    layers += [
        keras.layers.Dense(p.dense_units, use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
    ]
    if p.dropout > 0:
        layers.append(keras.layers.Dropout(p.dropout))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", dtype="float32"))
    return keras.Sequential(layers, name="vgg_cnn")
