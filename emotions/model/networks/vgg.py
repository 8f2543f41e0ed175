"""A deeper CPU-friendly network for real faces: blocks of batch-normalised 3x3 convs and a max-pool,
filters doubling per block, ``convs`` convs per block (few in the large-resolution blocks, where
convs cost most); then global average pooling and a dense head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emotions.params import _Section

if TYPE_CHECKING:
    import keras

ANY_SIZE = True  # global pooling lets one set of weights take any image size


@dataclass(frozen=True)
class Params:
    width: int  # filters of the first block; each further block doubles them
    convs: tuple[int, ...]  # convs in each block (each block ends in a 2x2 max-pool)
    dense_units: int
    dropout: float  # before the hidden dense layer and after it

    @classmethod
    def read(cls, s: _Section) -> Params:
        return cls(
            width=s.integer("width", minimum=4),
            convs=s.counts("convs", length=(1, 5), each=(1, 4)),
            dense_units=s.integer("dense_units", minimum=1),
            dropout=s.fraction("dropout", allow_zero=True),
        )


def smallest_size(p: Params) -> tuple[int, str]:
    """One pixel left after the last block's max-pool; and how that is said in a message."""
    return 2 ** len(p.convs), "2**len(model.vgg.convs)"


def build(image_size: int | None, num_classes: int, p: Params) -> keras.Model:
    import keras

    layers: list[keras.layers.Layer] = [keras.Input(shape=(image_size, image_size, 1))]
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
