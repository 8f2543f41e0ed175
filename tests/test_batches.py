from __future__ import annotations

import itertools

import numpy as np

from emotions.params import AugmentParams
from emotions.training.batches import Batches, balanced_class_weights, validation_batches


def images(n: int = 16) -> np.ndarray:
    return np.random.default_rng(0).random((n, 24, 24), dtype=np.float32)


def test_batches_cover_every_image_once_per_epoch_and_reshuffle() -> None:
    x, y = images(20), np.arange(20) % 2
    batches = Batches(x, y, 6, seed=3, augmentation=None, weights=None)
    assert len(batches) == 4
    first = np.concatenate([batches.batch(0, i)[1] for i in range(len(batches))])
    assert sorted(first.tolist()) == sorted(y.tolist())
    assert not np.array_equal(batches.order(0), batches.order(1))
    xb, yb, wb = batches.batch(0, 0)
    assert xb.shape == (6, 24, 24, 1) and wb.tolist() == [1.0] * 6


def test_balanced_class_weights_favour_rare_classes() -> None:
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    np.testing.assert_allclose(weights, [4 / 6, 4 / 2])
    labels = np.array([0, 0, 0, 1])
    batches = Batches(images(4), labels, 4, 0, None, weights[labels])
    _, batch_labels, w = batches.batch(0, 0)
    np.testing.assert_allclose(w, weights[batch_labels])


def test_dataset_runs_epoch_after_epoch_from_the_first_as_batch_says() -> None:
    """One endless dataset serves a whole training phase: epoch by epoch, the very batches ``batch``
    gives (augmented ones included), so reading them through TensorFlow changes nothing."""
    aug = AugmentParams(flip=True, shift=0.1, rotation=10, zoom=0.1, brightness=0.1, contrast=0.2)
    batches = Batches(
        images(10), np.arange(10) % 3, 4, seed=5, augmentation=aug, weights=None, first_epoch=2
    )
    read = list(itertools.islice(batches.dataset().as_numpy_iterator(), 2 * len(batches)))
    expected = [batches.batch(epoch, index) for epoch in (2, 3) for index in range(len(batches))]
    assert [len(b[0]) for b in read] == [4, 4, 2, 4, 4, 2]
    for got, want in zip(read, expected, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_soft_targets_keep_their_rows() -> None:
    targets = np.eye(3, dtype=np.float32)[np.arange(6) % 3]
    batches = Batches(images(6), targets, 6, seed=0, augmentation=None, weights=None)
    _, got, _ = next(batches.dataset().as_numpy_iterator())
    np.testing.assert_array_equal(got, targets[batches.order(0)])


def test_validation_batches_keep_order_and_add_the_channel() -> None:
    x, y = images(5), np.arange(5)
    read = list(validation_batches(x, y, 2).as_numpy_iterator())
    assert [len(b[1]) for b in read] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in read]), x[..., np.newaxis])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in read]), y)
