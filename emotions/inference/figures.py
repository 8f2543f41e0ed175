"""Pictures for the evaluation report, drawn with OpenCV (no plotting library needed)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE, BLACK, RED, GREEN = (255, 255, 255), (0, 0, 0), (40, 40, 220), (40, 160, 40)
HEAT_FLOOR = 1e-6  # smaller probability drops are float32 rounding (steps of 6e-8 near 1), not causes: never shown hot
HEAT_ALPHA = 0.5  # the colours' share of a heat map's blend with the face


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


def heat_overlay(face: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """A BGR picture of an 8-bit grayscale face with an occlusion map (of any size, probability drops)
    stretched over it and colour-mapped: red where hiding the face lowered its label's probability
    most, blue where hiding it cost nothing or helped. The colours span the map's own largest drop:
    they show where, not how much (a very sure model's largest drops can be under 0.01)."""
    share = np.clip(heat / max(float(heat.max()), HEAT_FLOOR), 0, 1).astype(np.float32)
    stretched = cv2.resize(share, (face.shape[1], face.shape[0]), interpolation=cv2.INTER_LINEAR)
    colours = cv2.applyColorMap(np.round(stretched * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(cv2.cvtColor(face, cv2.COLOR_GRAY2BGR), 1 - HEAT_ALPHA, colours, HEAT_ALPHA, 0)


def mistakes_grid(
    images: np.ndarray,
    true: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    heat: np.ndarray | None = None,
    columns: int = 6,
    tile: int = 144,
) -> np.ndarray:
    """Misclassified faces (images in [0, 1]) with their true label and the wrong prediction, each with
    its occlusion map laid over it where ``heat`` gives them; with none, a picture that says so
    rather than a blank one."""
    label_height = 40
    if not len(images):
        grid = np.full((tile + label_height, columns * tile, 3), 255, np.uint8)
        _text(grid, "No mistakes: every test image was classified correctly.", (20, (tile + label_height) // 2), 0.7, GREEN, 2)
        return grid
    rows = -(-len(images) // columns)
    grid = np.full((rows * (tile + label_height), columns * tile, 3), 255, np.uint8)
    for k, image in enumerate(images):
        y, x = (k // columns) * (tile + label_height), (k % columns) * tile
        face = cv2.resize((image * 255).astype(np.uint8), (tile - 8, tile - 8), interpolation=cv2.INTER_NEAREST)
        grid[y + 4 : y + tile - 4, x + 4 : x + tile - 4] = face[..., np.newaxis] if heat is None else heat_overlay(face, heat[k])
        _text(grid, f"true {true[k]}", (x + 4, y + tile + 12), 0.45, GREEN)
        _text(grid, f"pred {predicted[k]} {confidence[k]:.0%}", (x + 4, y + tile + 30), 0.45, RED)
    return grid


def annotate(image: np.ndarray, faces: Sequence[tuple[tuple[int, int, int, int] | None, str, float]]) -> np.ndarray:
    """A copy of a BGR image, with white margins added, showing each face's box (the whole image when
    there is none) and its top emotion with that emotion's probability. Labels sit above their box,
    in the top margin where the box reaches the image's top, at a readable size however small the
    image (the margins widen for them), and no face's pixels are painted over. The image sits at the
    same place for any faces, none included (the top margin depends only on the image's size), so
    video frames line up."""
    height, width = image.shape[:2]
    scale = max(0.5, min(width, height) / 400)  # 0.5: about 12 px tall, the smallest that reads well
    thickness = max(1, round(scale * 2))
    pad = 3
    (_, th), base = cv2.getTextSize("Ag", FONT, scale, thickness)  # this font's height is the same for any text
    labels = []
    for box, label, probability in faces:
        text = f"{label} {probability:.0%}"
        tw = cv2.getTextSize(text, FONT, scale, thickness)[0][0]
        labels.append((box if box is not None else (0, 0, width, height), text, tw))
    band = th + base + 2 * pad + thickness  # room above a box at the top
    right = max((x + tw + 2 * pad for (x, _, _, _), _, tw in labels), default=0) - width  # a label wider than the image
    out = cv2.copyMakeBorder(image, band, thickness, thickness, thickness + max(0, right), cv2.BORDER_CONSTANT, value=WHITE)
    for (x, y, w, h), text, tw in labels:
        x0, y0 = x + thickness, y + band  # the box's corner on the margined picture
        cv2.rectangle(out, (x0 - thickness, y0 - thickness), (x0 + w + thickness - 1, y0 + h + thickness - 1), GREEN, thickness)
        top = y0 - thickness - th - base - 2 * pad
        cv2.rectangle(out, (x0 - thickness, top), (x0 - thickness + tw + 2 * pad, y0 - thickness), GREEN, -1)
        _text(out, text, (x0 - thickness + pad, top + pad + th), scale, WHITE, thickness)
    for (x, y, w, h), *_ in labels:  # boxes and labels go around faces, never over them
        out[y + band : y + band + h, x + thickness : x + thickness + w] = image[y : y + h, x : x + w]
    return out


# A colour per class (BGR), in the classes' order: red, amber, blue, green, purple, orange, grey, teal.
CLASS_COLOURS = ((50, 50, 210), (0, 170, 240), (200, 110, 30), (60, 160, 60), (170, 70, 170), (20, 120, 230), (130, 130, 130))


def emotion_timeline(
    duration: float,
    step: float,
    classes: Sequence[str],
    faces: Sequence[tuple[int, Sequence[tuple[float, Sequence[float]]]]],
    width: int = 900,
) -> np.ndarray:
    """Each face of a video over time (``faces``: its id, and its sampled times with every class's
    probability): a curve per class, and below them a band in the colour of the top emotion of each
    sampled frame, ``step`` seconds wide; where the face was not seen, both are blank."""
    left, right, legend, panel, curves, axis = 70, 20, 36, 112, 70, 34
    colours = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(len(classes))]
    image = np.full((legend + panel * len(faces) + axis, width, 3), 255, np.uint8)
    span = max(duration, step)
    plot = width - left - right

    def x_at(time: float) -> int:
        return left + round(plot * min(time, span) / span)

    x = left
    for name, colour in zip(classes, colours, strict=True):
        cv2.rectangle(image, (x, 12), (x + 14, 26), colour, -1)
        _text(image, name, (x + 20, 24))
        x += 40 + cv2.getTextSize(name, FONT, 0.5, 1)[0][0]
    for row, (face, samples) in enumerate(faces):
        top = legend + row * panel
        _text(image, f"face {face}", (8, top + curves // 2 + 5))
        cv2.rectangle(image, (left, top), (left + plot, top + curves), (200, 200, 200), 1)
        _text(image, "1", (left - 12, top + 8), 0.4)
        _text(image, "0", (left - 12, top + curves), 0.4)
        band = top + curves + 4
        for (time, probabilities), later in zip(samples, [*samples[1:], None], strict=True):
            top_class = int(np.argmax(probabilities))
            cv2.rectangle(image, (x_at(time), band), (max(x_at(time + step) - 1, x_at(time)), band + 14), colours[top_class], -1)
            if later is None or later[0] - time > 1.5 * step:  # the face was missed: no line across the gap
                continue
            for k, colour in enumerate(colours):
                y0, y1 = (top + round(curves * (1 - p[k])) for p in (probabilities, later[1]))
                cv2.line(image, (x_at(time), y0), (x_at(later[0]), y1), colour, 2, cv2.LINE_AA)
    baseline = legend + panel * len(faces)
    tick = next(t for t in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600) if span / t <= 10 or t == 3600)
    for k in range(int(span / tick) + 1):
        x = x_at(k * tick)
        cv2.line(image, (x, baseline - 6), (x, baseline), BLACK, 1)
        _text(image, f"{k * tick:g}", (x - 6, baseline + 14), 0.45)
    _text(image, "seconds", (left + plot - 60, baseline + 30), 0.45)
    return image


def reliability_diagram(panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]], side: int = 300) -> np.ndarray:
    """Reliability diagrams side by side, one per ``(title, count, confidence, accuracy)`` over equal-
    width confidence bins (means NaN where a bin is empty): each bin's accuracy as a blue bar, its
    mean confidence as a red line with the gap between them shaded red, the diagonal of perfect
    calibration, and under the plot the share of the faces in each bin."""
    left, top, strip, bottom, right = 50, 40, 40, 45, 30  # margins: tick labels, title, faces strip, axis name
    width, height = left + side + right, top + side + strip + bottom
    image = np.full((height, width * len(panels), 3), 255, np.uint8)
    for k, (title, count, confidence, accuracy) in enumerate(panels):
        x0, y0, bins = k * width + left, top + side, len(count)  # the plot's bottom-left corner

        def at(fraction: float, x0: int = x0) -> int:
            return x0 + round(fraction * side)

        def level(value: float, y0: int = y0) -> int:
            return y0 - round(value * side)

        for i in np.flatnonzero(count):
            x1, x2, right_level, sure_level = at(i / bins), at((i + 1) / bins), level(accuracy[i]), level(confidence[i])
            cv2.rectangle(image, (x1, right_level), (x2, y0), (200, 130, 40), -1)
            gap = image[min(right_level, sure_level) : max(right_level, sure_level) + 1, x1 : x2 + 1]
            gap[:] = gap // 2 + np.array(RED, np.uint8) // 2
            cv2.rectangle(image, (x1, right_level), (x2, y0), (90, 60, 20), 1)
            cv2.line(image, (x1, sure_level), (x2, sure_level), RED, 2)
            share = round((strip - 8) * count[i] / count.max())
            cv2.rectangle(image, (x1, y0 + strip - 2 - share), (x2, y0 + strip - 2), (150, 150, 150), -1)
        cv2.line(image, (x0, y0), (at(1), level(1)), (90, 90, 90), 1, cv2.LINE_AA)
        cv2.rectangle(image, (x0, level(1)), (at(1), y0), BLACK, 1)
        for tick in (0.0, 0.5, 1.0):
            _text(image, f"{tick:g}", (at(tick) - 8, y0 + strip + 14), 0.4)
            _text(image, f"{tick:g}", (x0 - 28, level(tick) + 5), 0.4)
        _text(image, "faces", (x0 - 46, y0 + strip - 6), 0.4, (110, 110, 110))
        _text(image, "confidence", (x0 + side // 2 - 40, height - 10), 0.5)
        _text(image, "accuracy", (x0 + 6, level(1) + 18), 0.5)
        title_width = cv2.getTextSize(title, FONT, 0.55, 1)[0][0]
        _text(image, title, (x0, top - 14), 0.55 * min(1.0, (side + right - 5) / title_width))  # shrunk to fit
    return image
