"""Pictures for the evaluation report, drawn with OpenCV (no plotting library needed)."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE, BLACK, RED, GREEN = (255, 255, 255), (0, 0, 0), (40, 40, 220), (40, 160, 40)


def _text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float = 0.5, color=BLACK, thickness: int = 1) -> None:
    cv2.putText(image, text, origin, FONT, scale, color, thickness, cv2.LINE_AA)


def confusion_image(matrix: np.ndarray, classes: Sequence[str], cell: int = 90) -> np.ndarray:
    """A colour-coded confusion matrix: rows are true classes, columns predicted; each cell shows the
    count and the share of its row."""
    n = len(classes)
    margin = max(90, 9 * max(len(c) for c in classes) + 20)
    image = np.full((margin + n * cell + 20, margin + n * cell + 20, 3), 255, np.uint8)
    totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
    shares = matrix / totals
    for i in range(n):
        for j in range(n):
            x, y = margin + j * cell, margin + i * cell
            strength = int(255 * (1 - shares[i, j]))
            colour = (255, strength, strength) if i == j else (strength, strength, 255)
            cv2.rectangle(image, (x, y), (x + cell, y + cell), colour, -1)
            cv2.rectangle(image, (x, y), (x + cell, y + cell), (160, 160, 160), 1)
            ink = WHITE if shares[i, j] > 0.6 else BLACK
            _text(image, str(int(matrix[i, j])), (x + 10, y + cell // 2), 0.7, ink, 2)
            _text(image, f"{shares[i, j]:.0%}", (x + 10, y + cell // 2 + 25), 0.5, ink)
    for k, name in enumerate(classes):
        _text(image, name, (10, margin + k * cell + cell // 2 + 5))
        _text(image, name, (margin + k * cell + 8, margin - 12))
    _text(image, "predicted", (margin, 22), 0.6, BLACK, 2)
    _text(image, "true", (10, margin - 40), 0.6, BLACK, 2)
    return image


def mistakes_grid(
    images: np.ndarray, true: Sequence[str], predicted: Sequence[str], confidence: Sequence[float],
    columns: int = 6, tile: int = 144,
) -> np.ndarray:
    """Misclassified faces (images in [0, 1]) with their true label and the wrong prediction."""
    rows = max(1, -(-len(images) // columns))
    label_height = 40
    grid = np.full((rows * (tile + label_height), columns * tile, 3), 255, np.uint8)
    for k, image in enumerate(images):
        y, x = (k // columns) * (tile + label_height), (k % columns) * tile
        face = cv2.resize((image * 255).astype(np.uint8), (tile - 8, tile - 8), interpolation=cv2.INTER_NEAREST)
        grid[y + 4 : y + tile - 4, x + 4 : x + tile - 4] = face[..., np.newaxis]
        _text(grid, f"true {true[k]}", (x + 4, y + tile + 12), 0.45, GREEN)
        _text(grid, f"pred {predicted[k]} {confidence[k]:.0%}", (x + 4, y + tile + 30), 0.45, RED)
    return grid


def annotate(image: np.ndarray, faces: Sequence[tuple[tuple[int, int, int, int] | None, str, float]]) -> np.ndarray:
    """A copy of a BGR image with each face's box (the whole image when there is none) and its top
    emotion with that emotion's probability."""
    out = image.copy()
    height, width = out.shape[:2]
    scale = max(0.4, min(width, height) / 400)
    thickness = max(1, round(scale * 2))
    for box, label, probability in faces:
        x, y, w, h = box if box is not None else (0, 0, width, height)
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), GREEN, thickness)
        text = f"{label} {probability:.0%}"
        (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
        top = y - th - base - 4 if y - th - base - 4 >= 0 else y
        cv2.rectangle(out, (x, top), (x + tw + 6, top + th + base + 4), GREEN, -1)
        _text(out, text, (x + 3, top + th + 2), scale, WHITE, thickness)
    return out
