"""Why the model decided: occlusion sensitivity. Hide one patch of a face at a time and measure how
much the probability of the predicted class drops; the regions whose hiding costs the most are the
ones the answer rests on. It needs nothing but the model's probabilities (the ONNX export, so no
TensorFlow) and works for any network."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Probabilities = Callable[
    [np.ndarray], np.ndarray
]  # preprocessed faces (N, size, size) -> (N, classes)

PATCH_SHARE = 6  # a patch is a sixth of the input's side: about an eye or a mouth on a face crop
STRIDE_SHARE = 12  # patches move by half their side, so each pixel is judged by several of them


def _starts(side: int, patch: int, stride: int) -> list[int]:
    """Where patches start along one side; the last sits flush with the edge, so every pixel is
    hidden once at least."""
    starts = list(range(0, side - patch + 1, stride))
    return starts if starts[-1] == side - patch else [*starts, side - patch]


def occlusion_map(
    probabilities: Probabilities, image: np.ndarray, target: int | None = None
) -> np.ndarray:
    """How much each pixel of a preprocessed face (size, size[, channels]) supports class
    ``target`` (by default the predicted one): the drop in that class's probability when a patch of
    the face's mean colour hides the pixel, averaged over the patches that cover it. Positive where
    hiding the pixel lowers the probability, negative where it raises it; (size, size). All the
    occluded copies go to the model in one batch."""
    height, width = image.shape[:2]
    patch_h, patch_w = max(1, round(height / PATCH_SHARE)), max(1, round(width / PATCH_SHARE))
    stride_h, stride_w = max(1, round(height / STRIDE_SHARE)), max(1, round(width / STRIDE_SHARE))
    corners = [
        (y, x)
        for y in _starts(height, patch_h, stride_h)
        for x in _starts(width, patch_w, stride_w)
    ]
    # the first copy stays whole
    batch = np.repeat(image[np.newaxis].astype(np.float32), len(corners) + 1, axis=0)
    # the face's own mean colour: no new edge or glare
    mean = image.mean(axis=(0, 1))
    for k, (y, x) in enumerate(corners, 1):
        batch[k, y : y + patch_h, x : x + patch_w] = mean
    probs = probabilities(batch)
    target = int(np.argmax(probs[0])) if target is None else target
    drops = probs[0, target] - probs[1:, target]
    total, covered = np.zeros((height, width)), np.zeros((height, width))
    for drop, (y, x) in zip(drops, corners, strict=True):
        total[y : y + patch_h, x : x + patch_w] += drop
        covered[y : y + patch_h, x : x + patch_w] += 1
    return (total / covered).astype(np.float32)
