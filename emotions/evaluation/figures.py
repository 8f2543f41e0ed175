"""Pictures for the evaluation report: the confusion matrix, the most confident mistakes and the
reliability diagram."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from emotions.drawing import BLACK, FONT, GREEN, RED, WHITE, heat_overlay, put_text, to_bgr


def confusion_image(matrix: np.ndarray, classes: Sequence[str], cell: int = 90) -> np.ndarray:
    """A colour-coded confusion matrix: rows are true classes, columns predicted; each cell shows
    the count and the share of its row."""
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
            put_text(image, str(int(matrix[i, j])), (x + 10, y + cell // 2), 0.7, ink, 2)
            put_text(image, f"{shares[i, j]:.0%}", (x + 10, y + cell // 2 + 25), 0.5, ink)
    for k, name in enumerate(classes):
        put_text(image, name, (10, margin + k * cell + cell // 2 + 5))
        put_text(image, name, (margin + k * cell + 8, margin - 12))
    put_text(image, "predicted", (margin, 22), 0.6, BLACK, 2)
    put_text(image, "true", (10, margin - 40), 0.6, BLACK, 2)
    return image


def mistakes_grid(
    images: np.ndarray,
    true: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    heat: np.ndarray | None = None,
    columns: int = 6,
    tile: int = 144,
) -> np.ndarray:
    """Misclassified faces (images in [0, 1]) with their true label and the wrong prediction, each
    with its occlusion map laid over it where ``heat`` gives them; with none, a picture that says so
    rather than a blank one."""
    label_height = 40
    if not len(images):
        grid = np.full((tile + label_height, columns * tile, 3), 255, np.uint8)
        put_text(
            grid,
            "No mistakes: every test image was classified correctly.",
            (20, (tile + label_height) // 2),
            0.7,
            GREEN,
            2,
        )
        return grid
    rows = -(-len(images) // columns)
    grid = np.full((rows * (tile + label_height), columns * tile, 3), 255, np.uint8)
    for k, image in enumerate(images):
        y, x = (k // columns) * (tile + label_height), (k % columns) * tile
        pixels = np.round(image * 255).astype(np.uint8)
        face = cv2.resize(pixels, (tile - 8, tile - 8), interpolation=cv2.INTER_NEAREST)
        grid[y + 4 : y + tile - 4, x + 4 : x + tile - 4] = (
            to_bgr(face) if heat is None else heat_overlay(face, heat[k])
        )
        put_text(grid, f"true {true[k]}", (x + 4, y + tile + 12), 0.45, GREEN)
        put_text(
            grid, f"pred {predicted[k]} {confidence[k]:.0%}", (x + 4, y + tile + 30), 0.45, RED
        )
    return grid


def reliability_diagram(
    panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]], side: int = 300
) -> np.ndarray:
    """Reliability diagrams side by side, one per ``(title, count, confidence, accuracy)`` over
    equal- width confidence bins (means NaN where a bin is empty): each bin's accuracy as a blue
    bar, its mean confidence as a red line with the gap between them shaded red, the diagonal of
    perfect calibration, and under the plot the share of the faces in each bin."""
    left, top, strip, bottom, right = (
        50,
        40,
        40,
        45,
        30,
    )  # margins: tick labels, title, faces strip, axis name
    width, height = left + side + right, top + side + strip + bottom
    image = np.full((height, width * len(panels), 3), 255, np.uint8)
    for k, (title, count, confidence, accuracy) in enumerate(panels):
        x0, y0, bins = k * width + left, top + side, len(count)  # the plot's bottom-left corner

        def at(fraction: float, x0: int = x0) -> int:
            return x0 + round(fraction * side)

        def level(value: float, y0: int = y0) -> int:
            return y0 - round(value * side)

        for i in np.flatnonzero(count):
            x1, x2, right_level, sure_level = (
                at(i / bins),
                at((i + 1) / bins),
                level(accuracy[i]),
                level(confidence[i]),
            )
            cv2.rectangle(image, (x1, right_level), (x2, y0), (200, 130, 40), -1)
            gap = image[
                min(right_level, sure_level) : max(right_level, sure_level) + 1, x1 : x2 + 1
            ]
            gap[:] = gap // 2 + np.array(RED, np.uint8) // 2
            cv2.rectangle(image, (x1, right_level), (x2, y0), (90, 60, 20), 1)
            cv2.line(image, (x1, sure_level), (x2, sure_level), RED, 2)
            share = round((strip - 8) * count[i] / count.max())
            cv2.rectangle(
                image, (x1, y0 + strip - 2 - share), (x2, y0 + strip - 2), (150, 150, 150), -1
            )
        cv2.line(image, (x0, y0), (at(1), level(1)), (90, 90, 90), 1, cv2.LINE_AA)
        cv2.rectangle(image, (x0, level(1)), (at(1), y0), BLACK, 1)
        for tick in (0.0, 0.5, 1.0):
            put_text(image, f"{tick:g}", (at(tick) - 8, y0 + strip + 14), 0.4)
            put_text(image, f"{tick:g}", (x0 - 28, level(tick) + 5), 0.4)
        put_text(image, "faces", (x0 - 46, y0 + strip - 6), 0.4, (110, 110, 110))
        put_text(image, "confidence", (x0 + side // 2 - 40, height - 10), 0.5)
        put_text(image, "accuracy", (x0 + 6, level(1) + 18), 0.5)
        title_width = cv2.getTextSize(title, FONT, 0.55, 1)[0][0]
        put_text(
            image, title, (x0, top - 14), 0.55 * min(1.0, (side + right - 5) / title_width)
        )  # shrunk to fit
    return image
