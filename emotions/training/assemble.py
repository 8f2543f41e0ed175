"""The saved model built from a fitted network: float32 at the prepared image size, answering among
the predicted classes, averaging its test-time views, and calibrated by a temperature."""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from emotions.data.store import Prepared
from emotions.saved.calibration import HIGHEST, LOWEST, fit_temperature
from emotions.training.batches import in_order
from emotions.training.layers import keeping_classes, with_temperature, with_test_time_augmentation
from emotions.training.networks import ModelParams, build_model

PREDICT_BATCH = 256  # faces per call when the saved model answers the validation part


class Saved(NamedTuple):
    model: keras.Model
    val_accuracy: float  # on the validation part, answered as shipped: test-time views averaged


def saved_model(
    trained: keras.Model,
    prepared: Prepared,
    val_idx: np.ndarray,
    model_params: ModelParams,
    calibrate: bool,
    crop: int,
) -> Saved:
    """What is saved and exported: float32, the full image size, and without the training's loss and
    metrics, which Keras cannot load back once the network is wrapped (test-time augmentation,
    temperature). A network trained on crops (``crop``, augment.crop) is wrapped to take whole
    faces. The temperature is fitted on the validation part: the test part stays unseen. Its
    accuracy there is the saved model's, which the last epoch's (one view of each face, the centre
    crop of a network trained on crops) is not."""
    encoding = prepared.encoding
    model = build_model(
        crop or encoding.image_size, encoding.channels, len(prepared.all_classes), model_params
    )
    model.set_weights(trained.get_weights())
    if prepared.extra_classes:
        model = keeping_classes(model, len(prepared.classes))
    mp = model_params
    if mp.tta_flip or mp.tta_shift or crop:
        model = with_test_time_augmentation(
            model,
            encoding.image_size,
            flip=mp.tta_flip or mp.tta_crops,
            shift=mp.tta_shift,
            corners=mp.tta_crops,
        )
    inputs = in_order(prepared.faces, val_idx, encoding.image_size, PREDICT_BATCH)
    probabilities = np.concatenate([model.predict(batch, verbose=0) for batch in inputs])
    labels = prepared.labels[val_idx]
    accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
    if calibrate:
        model = calibrated(model, probabilities, labels)
    return Saved(model, accuracy)


def calibrated(model: keras.Model, probabilities: np.ndarray, labels: np.ndarray) -> keras.Model:
    """``model`` with a temperature fitted on held-out faces (the validation part: the test part
    stays unseen) baked in, so that its probabilities can be read as such. The temperature comes
    after every wrapper: it calibrates what the saved model answers. Where the faces would take the
    temperature past an end of the range searched (every one answered right, say), the fit has no
    answer, and a temperature that sharp would round probabilities to 1 in float32: the model is
    kept as it is. ``probabilities``: the model's on those faces."""
    fit = fit_temperature(probabilities, labels)
    if fit.at_limit:
        how = (
            "less sure than it is right" if fit.temperature <= LOWEST else "surer than it is right"
        )
        print(
            f"train: no temperature fitted on {len(labels)} validation images: even at "
            f"{fit.temperature:g}, the end of the range searched ({LOWEST:g} to {HIGHEST:g}), the "
            f"network is {how} (negative log-likelihood {fit.nll_before:.4f} as it is, "
            f"{fit.nll_after:.4f} there), so its probabilities are kept"
        )
        return model
    print(
        f"train: temperature {fit.temperature:g} fitted on {len(labels)} validation images "
        f"(negative log-likelihood {fit.nll_before:.4f} before, {fit.nll_after:.4f} after)"
    )
    return with_temperature(model, fit.temperature)
