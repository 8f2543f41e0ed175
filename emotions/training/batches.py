"""What training sees: the prepared faces streamed from their shards in shuffled, optionally
augmented batches with per-face weights, the validation faces in order, the weights that make rare
classes count as much as common ones, and both as TensorFlow datasets that keep two cores busy.

Memory is set by ``train.shuffle_mb``, not by the number of faces: the training faces that fit in
it are read once and shuffled whole each epoch; more are read a window at a time (runs of
neighbouring faces in a seeded order, shuffled together), so at most one window is held."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import cv2
import numpy as np
import tensorflow as tf

from emotions.data.imaging import to_input
from emotions.data.store import Faces
from emotions.params import AugmentParams
from emotions.training.augment import augment
from emotions.training.layers import crop_origins

PREFETCH = 2  # batches made ahead of the training step, in a thread of their own
RUNS_PER_WINDOW = 8  # a window is this many runs of neighbouring faces, drawn from anywhere
Batch = tuple[np.ndarray, np.ndarray, np.ndarray]  # images (N, H, W, C), targets, per-face weights


def resized(images: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W, C) images shrunk to size x size by pixel-area averaging; unchanged at their own
    size."""
    if images.shape[1] == size:
        return images
    shrunk = [cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA) for image in images]
    return np.stack(shrunk).reshape(len(images), size, size, images.shape[3])


def cropped(images: np.ndarray, side: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """A side x side window of each (N, H, W, C) image: anywhere, drawn from ``rng``, or the centre
    one without it (the one the saved model takes); unchanged with ``side`` 0."""
    if not side:
        return images
    count, size = len(images), images.shape[1]
    if rng is None:
        left, top = crop_origins(size, side, corners=False)[0]
        return images[:, top : top + side, left : left + side]
    lefts, tops = rng.integers(0, size - side + 1, (2, count))
    return np.stack(
        [image[y : y + side, x : x + side] for image, x, y in zip(images, lefts, tops, strict=True)]
    )


class Batches:
    """Training batches of each epoch: an order and an augmentation that are functions of seed,
    epoch and batch index only, so the same seed gives the same batches however they are read.
    Targets are class indices or rows of class probabilities; ``rows`` index the prepared faces."""

    def __init__(
        self,
        faces: Faces,
        rows: np.ndarray,
        targets: np.ndarray,
        batch_size: int,
        seed: int,
        augmentation: AugmentParams | None,
        weights: np.ndarray | None,
        size: int,
        buffer_mb: float,
        first_epoch: int = 0,
        replicas: int = 1,
        crop: int = 0,
    ) -> None:
        self.faces, self.rows, self.targets = faces, rows, targets
        self.crop = crop  # the side of the crops trained on at ``size``; 0: whole faces
        self.replicas = replicas
        self.batch_size, self.seed, self.augmentation = batch_size, seed, augmentation
        self.weights = (
            np.ones(len(rows), np.float32) if weights is None else weights.astype(np.float32)
        )
        self.size = (
            size  # the side trained at: smaller than the stored faces in a low-resolution phase
        )
        self.buffer = max(batch_size, int(buffer_mb * 2**20) // faces.face_bytes)
        # a later training phase goes on with fresh shuffles and augmentations
        self.first_epoch = first_epoch
        self._all: np.ndarray | None = None  # every training face, when they fit in the buffer

    def __len__(self) -> int:
        return batch_count(len(self.rows), self.batch_size, self.replicas)

    def windows(self, epoch: int) -> list[np.ndarray]:
        """The epoch's order (positions in ``rows``), window by window: one window, a plain
        permutation, when every face fits in the buffer."""
        count = len(self.rows)
        if count <= self.buffer:
            return [np.random.default_rng([self.seed, epoch]).permutation(count)]
        run = max(1, self.buffer // RUNS_PER_WINDOW)
        runs = np.array_split(np.arange(count), -(-count // run))
        drawn = [runs[i] for i in np.random.default_rng([self.seed, epoch]).permutation(len(runs))]
        groups = [drawn[i : i + RUNS_PER_WINDOW] for i in range(0, len(drawn), RUNS_PER_WINDOW)]
        return [
            np.random.default_rng([self.seed, epoch, w]).permutation(np.concatenate(group))
            for w, group in enumerate(groups)
        ]

    def order(self, epoch: int) -> np.ndarray:
        return np.concatenate(self.windows(epoch))

    def _faces(self, positions: np.ndarray) -> np.ndarray:
        """uint8 faces at ``positions`` of ``rows``: from memory when all fit, else from disk."""
        if len(self.rows) <= self.buffer:
            if self._all is None:
                self._all = self.faces.read(self.rows)
            return self._all[positions]
        return self.faces.read(self.rows[positions])

    def _made(self, faces: np.ndarray, positions: np.ndarray, epoch: int, index: int) -> Batch:
        images = resized(to_input(faces), self.size)
        rng = None
        if self.augmentation is not None:
            rng = np.random.default_rng([self.seed, epoch, index])
            images = augment(images, rng, self.augmentation)
        return cropped(images, self.crop, rng), self.targets[positions], self.weights[positions]

    def batch(self, epoch: int, index: int) -> Batch:
        positions = self.order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        return self._made(self._faces(positions), positions, epoch, index)

    def epoch(self, epoch: int) -> Iterator[Batch]:
        """The epoch's batches in order. Faces that all fit in the buffer are read once and taken a
        batch at a time; more are read a window at a time, a batch maybe taking its first faces
        from one window and the rest from the next."""
        size, index = self.batch_size, 0
        held_faces, held = np.empty((0, *self.faces.shape), np.uint8), np.empty(0, np.int64)
        for window in self.windows(epoch):
            if len(self.rows) <= self.buffer:

                def take(a: int, b: int, w: np.ndarray = window) -> np.ndarray:
                    return self._faces(w[a:b])
            else:
                read = self._faces(window)

                def take(a: int, b: int, w: np.ndarray = read) -> np.ndarray:
                    return w[a:b]

            start = 0
            if len(held):
                start = min(size - len(held), len(window))
                held_faces = np.concatenate([held_faces, take(0, start)])
                held = np.concatenate([held, window[:start]])
                if len(held) < size:
                    continue
                yield self._made(held_faces, held, epoch, index)
                index += 1
            while start + size <= len(window):
                yield self._made(
                    take(start, start + size), window[start : start + size], epoch, index
                )
                start, index = start + size, index + 1
            # a copy, so that the window's faces are let go before the next window is read
            held_faces, held = take(start, len(window)).copy(), window[start:]
        if len(held):
            yield self._made(held_faces, held, epoch, index)

    def _endless(self) -> Iterator[Batch]:
        for epoch in itertools.count(self.first_epoch):
            yield from even(self.epoch(epoch), self.replicas)

    def dataset(self) -> tf.data.Dataset:
        """Every epoch from ``first_epoch`` on, one after another, for
        ``fit(steps_per_epoch=len(self))``: one iterator serves the whole phase (see ``steady``),
        and the next batches are made while the network trains on this one."""
        specs = tuple(
            tf.TensorSpec((None, *part.shape[1:]), tf.as_dtype(part.dtype))
            for part in self.batch(0, 0)
        )
        return steady(
            tf.data.Dataset.from_generator(self._endless, output_signature=specs).prefetch(PREFETCH)
        )


def in_order(
    faces: Faces, rows: np.ndarray, size: int, batch_size: int, crop: int = 0
) -> Iterator[np.ndarray]:
    """The faces ``rows`` as model inputs at ``size`` (their centre crops ``crop`` a side, if
    set), ``batch_size`` at a time, in order."""
    for chunk in faces.chunks(rows, batch_size):
        yield cropped(resized(to_input(chunk), size), crop)


def batch_count(faces: int, batch_size: int, replicas: int = 1) -> int:
    """Batches of ``faces``, a last one shorter than ``replicas`` left out (see ``even``)."""
    return faces // batch_size + (faces % batch_size >= replicas)


def even(batches: Iterator[tuple[np.ndarray, ...]], replicas: int) -> Iterator[tuple]:
    """Each batch cut to a multiple of ``replicas`` faces: Keras, under a mirrored strategy, fails
    on a batch that does not split evenly between its replicas, so an epoch's last, short batch
    loses a face or a few (none with one replica)."""
    for batch in batches:
        keep = len(batch[0]) // replicas * replicas
        if keep:
            yield tuple(part[:keep] for part in batch)


def validation_batches(
    faces: Faces,
    rows: np.ndarray,
    targets: np.ndarray,
    size: int,
    batch_size: int,
    replicas: int = 1,
    crop: int = 0,
) -> tf.data.Dataset:
    """The validation faces in batches (their centre crops, with ``crop``), read anew from the
    shards each epoch."""

    def batches() -> Iterator[tuple]:
        inputs = in_order(faces, rows, size, batch_size, crop)
        pairs = zip(range(0, len(rows), batch_size), inputs, strict=True)
        yield from even(
            ((images, targets[start : start + batch_size]) for start, images in pairs), replicas
        )

    specs = (
        tf.TensorSpec((None, crop or size, crop or size, faces.shape[2]), tf.float32),
        tf.TensorSpec((None, *targets.shape[1:]), tf.as_dtype(targets.dtype)),
    )
    dataset = tf.data.Dataset.from_generator(batches, output_signature=specs)
    # its length told: Keras warns that a dataset of unknown length "ran out of data" otherwise
    return steady(
        dataset.apply(
            tf.data.experimental.assert_cardinality(batch_count(len(rows), batch_size, replicas))
        )
    )


def steady(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` without tf.data's autotuning. Its tuning thread sleeps ever longer between
    rounds, and an iterator's teardown waits for it to wake: measured here, stalls of up to 35 s
    with both cores idle whenever Keras replaced an epoch's iterator (a third of the time of a
    48-pixel epoch). The pipelines above are small enough to need no tuning."""
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    # several workers split each batch between them: every worker makes the same batches (they
    # are functions of seed, epoch and index) and trains on its share of each
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Weights inversely proportional to class frequency (mean 1), so rare classes count as
    much."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = len(labels) / (num_classes * np.maximum(counts, 1))
    return weights.astype(np.float32)
