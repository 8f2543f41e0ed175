"""What is wrapped around any network (test-time augmentation and crops, keeping the predicted
classes) and the custom layers it uses, registered so that saved models load safely."""

from __future__ import annotations

import keras

from emotions.saved.calibration import FLOOR


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
class Crop(keras.layers.Layer):
    """The ``side`` x ``side`` window of (N, H, W, C) inputs whose top-left pixel is at ``left``,
    ``top``: what a network trained on crops (``augment.crop``) sees of a whole face."""

    def __init__(self, left: int, top: int, side: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.left, self.top, self.side = left, top, side

    def call(self, inputs):
        return inputs[:, self.top : self.top + self.side, self.left : self.left + self.side, :]

    def get_config(self) -> dict:
        return {**super().get_config(), "left": self.left, "top": self.top, "side": self.side}


@keras.saving.register_keras_serializable(package="emotions")
class KeepClasses(keras.layers.Layer):
    """The first ``count`` probabilities of a softmax, renormalised (the same as a softmax over
    their logits alone): a network that also learned extra classes answers among the ones it
    predicts."""

    def __init__(self, count: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.count = count

    def call(self, inputs):
        kept = inputs[:, : self.count]
        return kept / keras.ops.sum(kept, axis=-1, keepdims=True)

    def get_config(self) -> dict:
        return {**super().get_config(), "count": self.count}


@keras.saving.register_keras_serializable(package="emotions")
class Temperature(keras.layers.Layer):
    """Calibrated probabilities: ``softmax(log(p) / temperature)`` of probabilities ``p``, the same
    as dividing the network's logits by the temperature, and defined for an average of softmaxes too
    (test-time augmentation), which has no logits of its own."""

    def __init__(self, temperature: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.temperature = temperature

    def call(self, inputs):
        return keras.ops.softmax(
            keras.ops.log(keras.ops.maximum(inputs, FLOOR)) / self.temperature, axis=-1
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature}


def with_temperature(model: keras.Model, temperature: float) -> keras.Model:
    """``model`` answering with its probabilities calibrated by ``temperature``."""
    inputs = keras.Input(shape=model.input_shape[1:])
    outputs = Temperature(temperature, name="temperature")(model(inputs))
    return keras.Model(inputs, outputs, name=f"{model.name}_calibrated")


def temperature_of(model: keras.Model) -> float:
    """The temperature baked into ``model`` by ``with_temperature``; 1 (none) without one."""
    return next(
        (layer.temperature for layer in model.layers if isinstance(layer, Temperature)), 1.0
    )


def keeping_classes(model: keras.Model, count: int) -> keras.Model:
    """``model`` answering among its first ``count`` classes only."""
    inputs = keras.Input(shape=model.input_shape[1:])
    return keras.Model(
        inputs, KeepClasses(count, name="keep_classes")(model(inputs)), name=f"{model.name}_kept"
    )


def crop_origins(size: int, side: int, corners: bool) -> list[tuple[int, int]]:
    """The (left, top) of the side x side crops of a size x size face: the centre one first, then,
    with ``corners``, the four corners."""
    centre, far = (size - side) // 2, size - side
    return [(centre, centre)] + ([(0, 0), (far, 0), (0, far), (far, far)] if corners else [])


def with_test_time_augmentation(
    model: keras.Model, image_size: int, flip: bool, shift: int, corners: bool = False
) -> keras.Model:
    """The same network answering with the mean of its softmax over several views of a face: as
    is, mirrored (``flip``), and moved ``shift`` pixels left, right, up and down. A network whose
    input is smaller than ``image_size`` (trained on crops, ``augment.crop``) sees the centre crop
    of each view, and with ``corners`` the four corner crops as well. Baked into the saved model,
    so evaluate, predict and the ONNX export all see the same thing."""
    inputs = keras.Input(shape=(image_size, image_size, *model.input_shape[3:]))
    side = model.input_shape[1]
    cropped = side != image_size
    origins = crop_origins(image_size, side, corners) if cropped else [(0, 0)]
    offsets = [(0, 0)] + ([(shift, 0), (-shift, 0), (0, shift), (0, -shift)] if shift else [])
    views = []
    for dx, dy in offsets:
        moved = Shift(dx, dy, name=f"shift_{dx}_{dy}")(inputs) if (dx, dy) != (0, 0) else inputs
        for left, top in origins:
            where = f"_{left}_{top}" if cropped else ""
            view = Crop(left, top, side, name=f"crop_{dx}_{dy}{where}")(moved) if cropped else moved
            views.append(model(view))
            if flip:
                views.append(model(Mirror(name=f"mirror_{dx}_{dy}{where}")(view)))
    outputs = keras.layers.Average(name="view_average")(views) if len(views) > 1 else views[0]
    return keras.Model(inputs, outputs, name=f"{model.name}_tta")
