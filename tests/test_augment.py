"""On-the-fly augmentation of (N, H, W, C) batches, grayscale or colour."""

from __future__ import annotations

import numpy as np

from emotions.params import AugmentParams
from emotions.training.augment import augment

NONE = AugmentParams(flip=False, shift=0, rotation=0, zoom=0, brightness=0, contrast=0, crop=0)
FULL = AugmentParams(
    flip=True, shift=0.1, rotation=10, zoom=0.1, brightness=0.1, contrast=0.2, crop=0
)


def images(n: int = 16, channels: int = 1) -> np.ndarray:
    return np.random.default_rng(0).random((n, 24, 24, channels), dtype=np.float32)


def test_no_augmentation_is_the_identity() -> None:
    x = images()
    np.testing.assert_allclose(augment(x, np.random.default_rng(1), NONE), x, atol=1e-6)


def test_flip_only_mirrors_some_images() -> None:
    x = images(64)
    out = augment(x, np.random.default_rng(1), AugmentParams(True, 0, 0, 0, 0, 0, 0))
    mirrored = [np.allclose(o, i[:, ::-1], atol=1e-6) for o, i in zip(out, x, strict=True)]
    unchanged = [np.allclose(o, i, atol=1e-6) for o, i in zip(out, x, strict=True)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert 10 < sum(mirrored) < 54


def test_full_augmentation_changes_images_stays_in_range_and_repeats() -> None:
    x = images()
    a = augment(x, np.random.default_rng(5), FULL)
    b = augment(x, np.random.default_rng(5), FULL)
    assert a.dtype == np.float32 and a.shape == x.shape
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, x)


def test_colour_faces_move_and_change_as_one() -> None:
    """Each channel of a colour face gets the very transform its gray twin gets: the same warp and
    flip, and one contrast and brightness change for the whole face."""
    gray = images(16, channels=1)
    same = augment(np.repeat(gray, 3, axis=3), np.random.default_rng(7), FULL)
    for channel in range(3):
        np.testing.assert_allclose(
            same[..., channel : channel + 1],
            augment(gray, np.random.default_rng(7), FULL),
            atol=1e-5,
        )
    geometric = AugmentParams(
        flip=True, shift=0.1, rotation=10, zoom=0.1, brightness=0, contrast=0, crop=0
    )
    tinted = np.repeat(gray, 3, axis=3) * np.array([1.0, 0.5, 0.25], np.float32)
    moved = augment(tinted, np.random.default_rng(7), geometric)
    for channel in range(3):
        alone = augment(tinted[..., channel : channel + 1], np.random.default_rng(7), geometric)
        np.testing.assert_allclose(moved[..., channel : channel + 1], alone, atol=1e-5)
