"""What one training epoch sees: shuffled, optionally augmented batches of faces with per-face
weights, and the weights that make rare classes count as much as common ones."""

from __future__ import annotations

import keras
import numpy as np

from emotions.model.augment import augment
from emotions.params import AugmentParams


class Batches(keras.utils.PyDataset):
    """Shuffled (and optionally augmented) training batches with per-sample weights; the same seed
    gives the same batches, epoch by epoch. Targets are class indices or rows of class probabilities."""

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
        super().__init__(workers=1, use_multiprocessing=False)
        self.images, self.labels = images, targets
        self.batch_size, self.seed, self.augmentation = batch_size, seed, augmentation
        self.weights = np.ones(len(targets), np.float32) if weights is None else weights.astype(np.float32)
        self.epoch = first_epoch  # a later training phase goes on with fresh shuffles and augmentations
        self._order = self._shuffle()

    def _shuffle(self) -> np.ndarray:
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.labels))

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        batch = self.images[rows]
        if self.augmentation is not None:
            batch = augment(batch, np.random.default_rng([self.seed, self.epoch, index]), self.augmentation)
        return batch[..., np.newaxis], self.labels[rows], self.weights[rows]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._shuffle()


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Weights inversely proportional to class frequency (mean 1), so rare classes count as much."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = len(labels) / (num_classes * np.maximum(counts, 1))
    return weights.astype(np.float32)
