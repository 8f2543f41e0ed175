"""On-the-fly augmentation: every epoch sees each training face slightly flipped, shifted, turned,
zoomed, lit and contrasted differently. Done with OpenCV on the CPU (a few microseconds a face, far
cheaper than Keras' image-transform layers there) and seeded per epoch and batch, so runs repeat."""

from __future__ import annotations

import cv2
import numpy as np

from emotions.params import AugmentParams


def augment(images: np.ndarray, rng: np.random.Generator, aug: AugmentParams) -> np.ndarray:
    """A randomly transformed copy of a batch of (N, H, W, C) images in [0, 1]: each image moved,
    turned, zoomed and maybe mirrored, then its contrast and brightness changed (the same for all
    its channels)."""
    n, height, width, channels = images.shape
    planes = images[..., 0] if channels == 1 else images  # OpenCV drops a last axis of 1
    out = np.empty_like(planes)
    angles = np.asarray(rng.uniform(-aug.rotation, aug.rotation, n))
    scales = 1.0 + np.asarray(rng.uniform(-aug.zoom, aug.zoom, n))
    shifts: np.ndarray = rng.uniform(-aug.shift, aug.shift, (n, 2)) * (width, height)
    flips = np.asarray(rng.random(n) < 0.5) if aug.flip else np.zeros(n, bool)
    centre = (width / 2 - 0.5, height / 2 - 0.5)
    for i in range(n):
        matrix = cv2.getRotationMatrix2D(centre, float(angles[i]), float(scales[i]))
        matrix[:, 2] += shifts[i]
        source = planes[i, :, ::-1] if flips[i] else planes[i]
        out[i] = cv2.warpAffine(
            np.ascontiguousarray(source),
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
    each = (n,) + (1,) * (out.ndim - 1)  # one factor per image, for all its pixels and channels
    if aug.contrast > 0:
        means = out.mean(axis=tuple(range(1, out.ndim)), keepdims=True)
        out = (out - means) * (1.0 + rng.uniform(-aug.contrast, aug.contrast, each)) + means
    if aug.brightness > 0:
        out = out + rng.uniform(-aug.brightness, aug.brightness, each)
    out = np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)
    return out.reshape(images.shape)
