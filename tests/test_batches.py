"""Training and validation batches streamed from the prepared shards: every face once an epoch,
seeded orders, the same batches however they are read, and memory set by the buffer."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from emotions.data.store import Faces, ShardWriter
from emotions.params import AugmentParams
from emotions.training.batches import (
    Batches,
    balanced_class_weights,
    batch_count,
    cropped,
    even,
    resized,
    validation_batches,
)

SIDE = 24
FACE_MB = SIDE * SIDE / 2**20  # one face's bytes, in MB
AUGMENTED = AugmentParams(
    flip=True, shift=0.1, rotation=10, zoom=0.1, brightness=0.1, contrast=0.2, crop=0
)


def shards(tmp_path: Path, n: int = 16, per_shard: int = 4, channels: int = 1) -> Faces:
    """``n`` random faces written as shards of ``per_shard``; face i's first pixel is i."""
    writer = ShardWriter(tmp_path, (SIDE, SIDE, channels), shard_mb=per_shard * FACE_MB * channels)
    rng = np.random.default_rng(0)
    for i in range(n):
        face = rng.integers(0, 256, (SIDE, SIDE, channels), dtype=np.uint8)
        face[0, 0, 0] = i
        writer.add(face)
    return Faces(tmp_path, (SIDE, SIDE, channels), writer.finish(), np.arange(n))


def ids(images: np.ndarray) -> list[int]:
    """Which faces a batch holds, by their first pixel (before augmentation)."""
    return [round(float(v) * 255) for v in images[:, 0, 0, 0]]


def batches_of(
    faces: Faces, targets: np.ndarray, size: int, buffer_faces: float = 1000, **kw
) -> Batches:
    defaults = {"seed": 3, "augmentation": None, "weights": None}
    return Batches(
        faces,
        np.arange(len(faces)),
        targets,
        size,
        size=SIDE,
        buffer_mb=buffer_faces * FACE_MB,
        **{**defaults, **kw},
    )


@pytest.mark.parametrize("buffer_faces", [1000, 5])
def test_batches_cover_every_face_once_per_epoch_and_reshuffle(
    tmp_path: Path, buffer_faces: int
) -> None:
    """All in memory (a buffer larger than the faces) or streamed a window at a time."""
    faces = shards(tmp_path, n=20)
    y = np.arange(20) % 2
    batches = batches_of(faces, y, 6, buffer_faces)
    assert len(batches) == 4
    for epoch in (0, 1):
        read = list(batches.epoch(epoch))
        assert sorted(i for images, _, _ in read for i in ids(images)) == list(range(20))
        assert [len(b[0]) for b in read] == [6, 6, 6, 2]
        for index, got in enumerate(read):
            for a, b in zip(got, batches.batch(epoch, index), strict=True):
                np.testing.assert_array_equal(a, b)
    assert not np.array_equal(batches.order(0), batches.order(1))
    xb, _, wb = batches.batch(0, 0)
    assert xb.shape == (6, SIDE, SIDE, 1) and xb.dtype == np.float32 and wb.tolist() == [1.0] * 6


def test_a_small_buffer_bounds_what_is_read_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faces = shards(tmp_path, n=40)
    batches = batches_of(faces, np.zeros(40, int), 4, buffer_faces=8)
    sizes: list[int] = []
    read = faces.read
    monkeypatch.setattr(faces, "read", lambda which: sizes.append(len(which)) or read(which))
    assert sum(len(b[0]) for b in batches.epoch(0)) == 40
    assert max(sizes) <= 8 and sum(sizes) == 40  # each face read once, a window at a time
    windows = batches.windows(0)
    assert len(windows) == 5 and sorted(np.concatenate(windows).tolist()) == list(range(40))
    assert not np.array_equal(np.concatenate(windows), np.arange(40))  # shuffled across windows


def test_a_low_resolution_phase_shrinks_each_batch(tmp_path: Path) -> None:
    faces = shards(tmp_path, n=8)
    small = Batches(faces, np.arange(8), np.zeros(8, int), 4, 0, None, None, size=12, buffer_mb=1)
    assert small.batch(0, 0)[0].shape == (4, 12, 12, 1)


def test_colour_faces_keep_their_channels(tmp_path: Path) -> None:
    faces = shards(tmp_path, n=6, channels=3)
    images, _, _ = batches_of(faces, np.zeros(6, int), 3).batch(0, 0)
    assert images.shape == (3, SIDE, SIDE, 3)


def test_balanced_class_weights_favour_rare_classes(tmp_path: Path) -> None:
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    np.testing.assert_allclose(weights, [4 / 6, 4 / 2])
    labels = np.array([0, 0, 0, 1])
    batches = batches_of(shards(tmp_path, n=4), labels, 4, weights=weights[labels])
    _, batch_labels, w = batches.batch(0, 0)
    np.testing.assert_allclose(w, weights[batch_labels])


@pytest.mark.parametrize("buffer_faces", [1000, 4])
def test_dataset_runs_epoch_after_epoch_from_the_first_as_batch_says(
    tmp_path: Path, buffer_faces: int
) -> None:
    """One endless dataset serves a whole training phase: epoch by epoch, the very batches ``batch``
    gives (augmented ones included), so reading them through TensorFlow changes nothing."""
    batches = batches_of(
        shards(tmp_path, n=10),
        np.arange(10) % 3,
        4,
        buffer_faces,
        seed=5,
        augmentation=AUGMENTED,
        first_epoch=2,
    )
    read = list(itertools.islice(batches.dataset().as_numpy_iterator(), 2 * len(batches)))
    expected = [batches.batch(epoch, index) for epoch in (2, 3) for index in range(len(batches))]
    assert [len(b[0]) for b in read] == [4, 4, 2, 4, 4, 2]
    for got, want in zip(read, expected, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_soft_targets_keep_their_rows(tmp_path: Path) -> None:
    targets = np.eye(3, dtype=np.float32)[np.arange(6) % 3]
    batches = batches_of(shards(tmp_path, n=6), targets, 6, seed=0)
    _, got, _ = next(batches.dataset().as_numpy_iterator())
    np.testing.assert_array_equal(got, targets[batches.order(0)])


def test_validation_batches_keep_order(tmp_path: Path) -> None:
    faces = shards(tmp_path, n=5)
    y = np.arange(5)
    rows = np.array([4, 0, 2, 1, 3])
    read = list(validation_batches(faces, rows, y[rows], SIDE, 2).as_numpy_iterator())
    assert [len(b[1]) for b in read] == [2, 2, 1]
    assert ids(np.concatenate([b[0] for b in read])) == rows.tolist()
    np.testing.assert_array_equal(np.concatenate([b[1] for b in read]), y[rows])


def test_crops_are_windows_drawn_by_seed_or_the_centre() -> None:
    images = np.random.default_rng(0).random((6, 10, 10, 1), dtype=np.float32)
    centre = cropped(images, 6)
    np.testing.assert_array_equal(centre, images[:, 2:8, 2:8])
    assert cropped(images, 0) is images
    drawn = cropped(images, 6, np.random.default_rng(5))
    again = cropped(images, 6, np.random.default_rng(5))
    np.testing.assert_array_equal(drawn, again)
    origins = []
    for image, crop in zip(images, drawn, strict=True):
        found = [
            (x, y)
            for y in range(5)
            for x in range(5)
            if np.array_equal(image[y : y + 6, x : x + 6], crop)
        ]
        assert len(found) == 1  # a window of its own image
        origins.append(found[0])
    assert len(set(origins)) > 1  # drawn, not all the same place


def test_batches_and_validation_train_on_crops(tmp_path: Path) -> None:
    faces = shards(tmp_path, n=8)
    augmented = batches_of(faces, np.zeros(8, int), 4, augmentation=AUGMENTED, crop=16)
    images = augmented.batch(0, 0)[0]
    assert images.shape == (4, 16, 16, 1)
    np.testing.assert_array_equal(images, augmented.batch(0, 0)[0])  # the same seed, the same crops
    plain = batches_of(faces, np.zeros(8, int), 4, crop=16)
    whole = batches_of(faces, np.zeros(8, int), 4)
    np.testing.assert_array_equal(plain.batch(0, 0)[0], whole.batch(0, 0)[0][:, 4:20, 4:20])
    rows = np.arange(5)
    read = next(validation_batches(faces, rows, rows, SIDE, 5, crop=16).as_numpy_iterator())[0]
    np.testing.assert_array_equal(read, cropped(faces.read(rows).astype(np.float32) / 255, 16))


def test_resized_averages_pixel_areas() -> None:
    images = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    small = resized(images, 2)
    expected = images.reshape(2, 2, 2, 2, 2, 1).mean(axis=(2, 4))  # the mean of each 2x2 block
    np.testing.assert_allclose(small, expected, rtol=1e-6)
    assert resized(images, 4) is images


def test_batches_split_evenly_between_replicas() -> None:
    """A short batch is cut to a multiple of the replicas, and one shorter than them left out; with
    one replica nothing changes."""
    faces = np.arange(21)
    batches = [(faces[i : i + 8], faces[i : i + 8] * 10) for i in range(0, 21, 8)]
    kept = list(even(iter(batches), 2))
    assert [len(images) for images, _ in kept] == [8, 8, 4]
    np.testing.assert_array_equal(kept[2][1], [160, 170, 180, 190])
    assert [len(b[0]) for b in even(iter(batches), 1)] == [8, 8, 5]
    assert [len(b[0]) for b in even(iter(batches), 8)] == [8, 8]
    assert batch_count(21, 8, 1) == 3 and batch_count(21, 8, 2) == 3 and batch_count(21, 8, 8) == 2
    assert batch_count(17, 8, 2) == 2 and batch_count(16, 8, 2) == 2
