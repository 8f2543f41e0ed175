"""The networks: pure functions of their hyper-parameters."""

from __future__ import annotations

import keras

from emotions.params import ModelParams


def reference_cnn(image_size: int, num_classes: int, p: ModelParams) -> keras.Model:
    """The design the project grew from: two conv + max-pool blocks, a flatten, a hidden dense layer
    and a softmax. Small and quick; enough for the demo sample, modest on real faces."""
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
        keras.layers.Dense(num_classes, activation="softmax"),
    ]
    return keras.Sequential(layers, name="reference_cnn")


def vgg_cnn(image_size: int, num_classes: int, p: ModelParams) -> keras.Model:
    """A deeper CPU-friendly network for real faces: blocks of batch-normalised 3x3 convs and a
    max-pool, filters doubling per block; one conv in the two large-resolution blocks (where convs
    cost most), two in the later ones; then global average pooling and a dense head."""
    layers: list[keras.layers.Layer] = [keras.Input(shape=(image_size, image_size, 1))]
    for block in range(p.vgg_blocks):
        for _ in range(1 if block < 2 else 2):
            layers += [
                keras.layers.Conv2D(p.vgg_width * 2**block, 3, padding="same", use_bias=False),
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
    layers.append(keras.layers.Dense(num_classes, activation="softmax"))
    return keras.Sequential(layers, name="vgg_cnn")


def build_model(image_size: int, num_classes: int, p: ModelParams) -> keras.Model:
    builders = {"reference": reference_cnn, "vgg": vgg_cnn}
    return builders[p.architecture](image_size, num_classes, p)


@keras.saving.register_keras_serializable(package="emotions")
class Mirror(keras.layers.Layer):
    """Left-right mirror image of (N, H, W, C) inputs; a named layer so saved models load safely."""

    def call(self, inputs):  # type: ignore[override]
        return keras.ops.flip(inputs, axis=2)


def with_flip_averaging(model: keras.Model) -> keras.Model:
    """The same network, answering with the mean of its softmax on a face and on its mirror image:
    baked into the saved model, so evaluate, predict and any export see the same thing."""
    inputs = keras.Input(shape=model.input_shape[1:])
    mirrored = Mirror(name="mirror")(inputs)
    outputs = keras.layers.Average(name="flip_average")([model(inputs), model(mirrored)])
    return keras.Model(inputs, outputs, name=f"{model.name}_flip_tta")
