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
        keras.layers.Dense(num_classes, activation="softmax", dtype="float32"),
    ]
    return keras.Sequential(layers, name="reference_cnn")


def vgg_cnn(image_size: int | None, num_classes: int, p: ModelParams) -> keras.Model:
    """A deeper CPU-friendly network for real faces: blocks of batch-normalised 3x3 convs and a
    max-pool, filters doubling per block, ``p.vgg_convs`` convs per block (few in the large-resolution
    blocks, where convs cost most); then global average pooling and a dense head. Global pooling
    lets one set of weights take any image size (``image_size`` None), as low-resolution training needs."""
    layers: list[keras.layers.Layer] = [keras.Input(shape=(image_size, image_size, 1))]
    for block, convs in enumerate(p.vgg_convs):
        for _ in range(convs):
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
    layers.append(keras.layers.Dense(num_classes, activation="softmax", dtype="float32"))
    return keras.Sequential(layers, name="vgg_cnn")


def build_model(image_size: int | None, num_classes: int, p: ModelParams) -> keras.Model:
    """The chosen network; its softmax is computed in float32 even when training in bfloat16.
    ``image_size`` None (vgg only) accepts any size."""
    if p.architecture == "reference":
        assert image_size is not None, "the reference CNN's flatten layer needs a fixed image size"
        return reference_cnn(image_size, num_classes, p)
    return vgg_cnn(image_size, num_classes, p)


@keras.saving.register_keras_serializable(package="emotions")
class Mirror(keras.layers.Layer):
    """Left-right mirror image of (N, H, W, C) inputs; a named layer so saved models load safely."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)


@keras.saving.register_keras_serializable(package="emotions")
class Shift(keras.layers.Layer):
    """(N, H, W, C) inputs moved ``dx`` pixels right and ``dy`` down, the uncovered edge filled by
    reflection (as the training augmentation fills it)."""

    def __init__(self, dx: int, dy: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dx, self.dy = dx, dy

    def call(self, inputs):
        k = max(abs(self.dx), abs(self.dy))
        padded = keras.ops.pad(inputs, [[0, 0], [k, k], [k, k], [0, 0]], mode="reflect")
        height, width = inputs.shape[1], inputs.shape[2]
        top, left = k - self.dy, k - self.dx
        return padded[:, top : top + height, left : left + width, :]

    def get_config(self) -> dict:
        return {**super().get_config(), "dx": self.dx, "dy": self.dy}


@keras.saving.register_keras_serializable(package="emotions")
class KeepClasses(keras.layers.Layer):
    """The first ``count`` probabilities of a softmax, renormalised (the same as a softmax over their
    logits alone): a network that also learned extra classes answers among the ones it predicts."""

    def __init__(self, count: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.count = count

    def call(self, inputs):
        kept = inputs[:, : self.count]
        return kept / keras.ops.sum(kept, axis=-1, keepdims=True)

    def get_config(self) -> dict:
        return {**super().get_config(), "count": self.count}


def keeping_classes(model: keras.Model, count: int) -> keras.Model:
    """``model`` answering among its first ``count`` classes only."""
    inputs = keras.Input(shape=model.input_shape[1:])
    return keras.Model(inputs, KeepClasses(count, name="keep_classes")(model(inputs)), name=f"{model.name}_kept")


def with_test_time_augmentation(model: keras.Model, flip: bool, shift: int) -> keras.Model:
    """The same network answering with the mean of its softmax over several views of a face: as
    is, mirrored (``flip``), and moved ``shift`` pixels left, right, up and down. Baked into the
    saved model, so evaluate, predict and the ONNX export all see the same thing."""
    inputs = keras.Input(shape=model.input_shape[1:])
    offsets = [(0, 0)] + ([(shift, 0), (-shift, 0), (0, shift), (0, -shift)] if shift else [])
    views = []
    for dx, dy in offsets:
        moved = Shift(dx, dy, name=f"shift_{dx}_{dy}")(inputs) if (dx, dy) != (0, 0) else inputs
        views.append(model(moved))
        if flip:
            views.append(model(Mirror(name=f"mirror_{dx}_{dy}")(moved)))
    outputs = keras.layers.Average(name="view_average")(views)
    return keras.Model(inputs, outputs, name=f"{model.name}_tta")
