"""The network: a pure function of its hyper-parameters."""

from __future__ import annotations

import keras

from emotions.params import ModelParams


def build_model(image_size: int, num_classes: int, params: ModelParams) -> keras.Model:
    """The reference CNN: two conv + max-pool blocks, a flatten, a hidden dense layer and a softmax."""
    layers = [
        keras.Input(shape=(image_size, image_size, 1)),
        keras.layers.Conv2D(params.conv1_filters, params.kernel_size, activation="relu", padding="same"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(params.conv2_filters, params.kernel_size, activation="relu", padding="same"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
    ]
    if params.dropout > 0:
        layers.append(keras.layers.Dropout(params.dropout))
    layers += [
        keras.layers.Dense(params.dense_units, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ]
    return keras.Sequential(layers, name="reference_cnn")
