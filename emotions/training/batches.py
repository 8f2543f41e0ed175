"""What training sees: shuffled, optionally augmented batches of faces with per-face weights, the
weights that make rare classes count as much as common ones, and both as TensorFlow datasets that
keep two cores busy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from emotions.params import AugmentParams
from emotions.training.augment import augment

PREFETCH = 2  # batches made ahead of the training step, in a thread of their own
Batch = tuple[np.ndarray, np.ndarray, np.ndarray]  # images (N, H, W, 1), targets, per-face weights


class Batches:
    """Training batches of each epoch: a shuffle and an augmentation that are functions of seed,
    epoch and batch index only, so the same seed gives the same batches however they are read.
    Targets are class indices or rows of class probabilities."""

    def __init__(
        self,
        images: np.ndarray,
        targets: np.ndarray,
        batch_size: int,
        seed: int,
        augmentation: AugmentParams | None,
        weights: np.ndarray | None,
        first_epoch: int = 0,
    ) -> None:
        self.images, self.targets = images, targets
        self.batch_size, self.seed, self.augmentation = batch_size, seed, augmentation
        self.weights = (
            np.ones(len(targets), np.float32) if weights is None else weights.astype(np.float32)
        )
        # a later training phase goes on with fresh shuffles and augmentations
        self.first_epoch = first_epoch

    def __len__(self) -> int:
        return -(-len(self.targets) // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.targets))

    def batch(self, epoch: int, index: int) -> Batch:
        rows = self.order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.images[rows]
        if self.augmentation is not None:
            images = augment(
                images, np.random.default_rng([self.seed, epoch, index]), self.augmentation
            )
        return images[..., np.newaxis], self.targets[rows], self.weights[rows]

    def _endless(self) -> Iterator[Batch]:
        for epoch in itertools.count(self.first_epoch):
            for index in range(len(self)):
                yield self.batch(epoch, index)

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


def validation_batches(images: np.ndarray, targets: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """The validation faces (N, H, W) in batches, read anew each epoch."""
    return steady(
        tf.data.Dataset.from_tensor_slices((images[..., np.newaxis], targets)).batch(batch_size)
    )


def steady(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` without tf.data's autotuning. Its tuning thread sleeps ever longer between
    rounds, and an iterator's teardown waits for it to wake: measured here, stalls of up to 35 s
    with both cores idle whenever Keras replaced an epoch's iterator (a third of the time of a
    48-pixel epoch). The pipelines above are small enough to need no tuning."""
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    return dataset.with_options(options)


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Weights inversely proportional to class frequency (mean 1), so rare classes count as much."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = len(labels) / (num_classes * np.maximum(counts, 1))
    return weights.astype(np.float32)
