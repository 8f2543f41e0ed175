"""On-the-fly augmentation: every epoch sees each training face slightly flipped, shifted, turned,
zoomed, lit and contrasted differently. Done with OpenCV on the CPU (a few microseconds a face, far
cheaper than Keras' image-transform layers there) and seeded per epoch and batch, so runs repeat."""

from __future__ import annotations

import cv2
import keras
import numpy as np

from emotions.params import AugmentParams


def augment(images: np.ndarray, rng: np.random.Generator, aug: AugmentParams) -> np.ndarray:
    """A randomly transformed copy of a batch of (N, H, W) images in [0, 1]."""
    n, height, width = images.shape
    out = np.empty_like(images)
    angles = np.asarray(rng.uniform(-aug.rotation, aug.rotation, n))
    scales = 1.0 + np.asarray(rng.uniform(-aug.zoom, aug.zoom, n))
    shifts: np.ndarray = rng.uniform(-aug.shift, aug.shift, (n, 2)) * (width, height)
    flips = np.asarray(rng.random(n) < 0.5) if aug.flip else np.zeros(n, bool)
    centre = (width / 2 - 0.5, height / 2 - 0.5)
    for i in range(n):
        matrix = cv2.getRotationMatrix2D(centre, float(angles[i]), float(scales[i]))
        matrix[:, 2] += shifts[i]
        source = images[i, :, ::-1] if flips[i] else images[i]
        out[i] = cv2.warpAffine(
            np.ascontiguousarray(source),
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
    if aug.contrast > 0:
        means = out.mean(axis=(1, 2), keepdims=True)
        out = (out - means) * (1.0 + rng.uniform(-aug.contrast, aug.contrast, (n, 1, 1))) + means
    if aug.brightness > 0:
        out = out + rng.uniform(-aug.brightness, aug.brightness, (n, 1, 1))
    return np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)


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
