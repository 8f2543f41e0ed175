from __future__ import annotations

import numpy as np

from emotions.model.batches import Batches, balanced_class_weights


def images(n: int = 16) -> np.ndarray:
    return np.random.default_rng(0).random((n, 24, 24), dtype=np.float32)


def test_batches_cover_every_image_once_per_epoch_and_reshuffle() -> None:
    x, y = images(20), np.arange(20) % 2
    batches = Batches(x, y, 6, seed=3, augmentation=None, weights=None)
    assert len(batches) == 4
    first = np.concatenate([batches[i][1] for i in range(len(batches))])
    order1 = batches._order.copy()
    batches.on_epoch_end()
    assert sorted(first.tolist()) == sorted(y.tolist())
    assert not np.array_equal(order1, batches._order)
    xb, yb, wb = batches[0]
    assert xb.shape == (6, 24, 24, 1) and wb.tolist() == [1.0] * 6


def test_balanced_class_weights_favour_rare_classes() -> None:
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    np.testing.assert_allclose(weights, [4 / 6, 4 / 2])
    labels = np.array([0, 0, 0, 1])
    batches = Batches(images(4), labels, 4, 0, None, weights[labels])
    _, batch_labels, w = batches[0]
    np.testing.assert_allclose(w, weights[batch_labels])
