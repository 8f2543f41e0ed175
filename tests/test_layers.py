"""The networks' shapes and the layers wrapped around them: test-time augmentation and saving
them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions import params
from emotions.saved import bundle
from emotions.training.keras_file import load_keras, save_keras
from emotions.training.networks import ModelParams
from tests.conftest import (
    TINY_PARAMS,
    changed,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


def test_reference_cnn_layout() -> None:
    from emotions.training.networks import build_model

    model = build_model(48, 1, 3, params.load(ModelParams, TINY_PARAMS))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert model.output_shape == (None, 3)


def test_vgg_network_and_test_time_augmentation(tmp_path: Path) -> None:
    import keras

    from emotions.training.layers import with_test_time_augmentation
    from emotions.training.networks import build_model

    p = params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg"}))
    model = build_model(16, 1, 3, p)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert (
        kinds.count("Conv2D") == 2
        and kinds.count("BatchNormalization") == 3
        and "GlobalAveragePooling2D" in kinds
    )
    deeper = build_model(
        16,
        1,
        3,
        params.load(
            ModelParams,
            changed(TINY_PARAMS, {"model.architecture": "vgg", "model.vgg.convs": [1, 3, 2]}),
        ),
    )
    filters = [layer.filters for layer in deeper.layers if isinstance(layer, keras.layers.Conv2D)]
    assert filters == [4, 8, 8, 8, 16, 16]  # convs per block as listed, filters doubling per block
    assert [type(layer).__name__ for layer in deeper.layers].count("MaxPooling2D") == 3
    x = np.random.default_rng(0).random((4, 16, 16, 1), dtype=np.float32)
    flipped = with_test_time_augmentation(model, 16, flip=True, shift=0)
    out = flipped.predict(x, verbose=0)
    np.testing.assert_allclose(
        out, flipped.predict(x[:, :, ::-1], verbose=0), atol=1e-5
    )  # symmetric by design
    np.testing.assert_allclose(
        out, (model.predict(x, verbose=0) + model.predict(x[:, :, ::-1], verbose=0)) / 2, atol=1e-5
    )

    def moved(
        dx: int, dy: int
    ) -> np.ndarray:  # what the augmentation's warp does: reflect-101 border
        matrix = np.float32([[1, 0, dx], [0, 1, dy]])
        return np.stack(
            [
                cv2.warpAffine(i[..., 0], matrix, (16, 16), borderMode=cv2.BORDER_REFLECT_101)
                for i in x
            ]
        )[..., None]

    views = [x, moved(2, 0), moved(-2, 0), moved(0, 2), moved(0, -2)]
    expected = np.mean([model.predict(v, verbose=0) for v in views], axis=0)
    shifted = with_test_time_augmentation(model, 16, flip=False, shift=2)
    np.testing.assert_allclose(shifted.predict(x, verbose=0), expected, atol=1e-5)
    both = with_test_time_augmentation(model, 16, flip=True, shift=2)
    save_keras(both, tmp_path / bundle.MODEL_FILE)
    np.testing.assert_allclose(
        load_keras(tmp_path).predict(x, verbose=0), both.predict(x, verbose=0), atol=1e-6
    )


def test_a_network_of_crops_answers_whole_faces(tmp_path: Path) -> None:
    """A network of 12-pixel inputs wrapped for 16-pixel faces: the centre crop alone, or the mean
    of the four corners and the centre, each mirrored (ten crops), saved and loaded back."""
    from emotions.training.layers import with_test_time_augmentation
    from emotions.training.networks import build_model

    p = params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg"}))
    model = build_model(12, 1, 3, p)
    x = np.random.default_rng(1).random((4, 16, 16, 1), dtype=np.float32)
    centre = with_test_time_augmentation(model, 16, flip=False, shift=0)
    assert centre.input_shape == (None, 16, 16, 1)
    np.testing.assert_allclose(
        centre.predict(x, verbose=0), model.predict(x[:, 2:14, 2:14], verbose=0), atol=1e-6
    )
    crops = [
        x[:, top : top + 12, left : left + 12]
        for left, top in [(2, 2), (0, 0), (4, 0), (0, 4), (4, 4)]
    ]
    views = crops + [crop[:, :, ::-1] for crop in crops]
    expected = np.mean([model.predict(v, verbose=0) for v in views], axis=0)
    ten = with_test_time_augmentation(model, 16, flip=True, shift=0, corners=True)
    np.testing.assert_allclose(ten.predict(x, verbose=0), expected, atol=1e-5)
    save_keras(ten, tmp_path / bundle.MODEL_FILE)
    np.testing.assert_allclose(
        load_keras(tmp_path).predict(x, verbose=0), ten.predict(x, verbose=0), atol=1e-6
    )
