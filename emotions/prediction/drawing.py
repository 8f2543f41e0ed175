"""Pictures predict draws: faces boxed and labelled on images and video frames, and each face's
emotions over a video's time."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from emotions.drawing import BLACK, FONT, GREEN, WHITE, put_text


def annotate(
    image: np.ndarray, faces: Sequence[tuple[tuple[int, int, int, int] | None, str, float]]
) -> np.ndarray:
    """A copy of a BGR image, with white margins added, showing each face's box (the whole image
    when there is none) and its top emotion with that emotion's probability. Labels sit above their
    box, in the top margin where the box reaches the image's top, at a readable size however small
    the image (the margins widen for them), and no face's pixels are painted over. The image sits at
    the same place for any faces, none included (the top margin depends only on the image's size),
    so video frames line up."""
    height, width = image.shape[:2]
    scale = max(
        0.5, min(width, height) / 400
    )  # 0.5: about 12 px tall, the smallest that reads well
    thickness = max(1, round(scale * 2))
    pad = 3
    (_, th), base = cv2.getTextSize(
        "Ag", FONT, scale, thickness
    )  # this font's height is the same for any text
    labels = []
    for box, label, probability in faces:
        text = f"{label} {probability:.0%}"
        tw = cv2.getTextSize(text, FONT, scale, thickness)[0][0]
        labels.append((box if box is not None else (0, 0, width, height), text, tw))
    band = th + base + 2 * pad + thickness  # room above a box at the top
    right = (
        max((x + tw + 2 * pad for (x, _, _, _), _, tw in labels), default=0) - width
    )  # a label wider than the image
    out = cv2.copyMakeBorder(
        image,
        band,
        thickness,
        thickness,
        thickness + max(0, right),
        cv2.BORDER_CONSTANT,
        value=WHITE,
    )
    for (x, y, w, h), text, tw in labels:
        x0, y0 = x + thickness, y + band  # the box's corner on the margined picture
        cv2.rectangle(
            out,
            (x0 - thickness, y0 - thickness),
            (x0 + w + thickness - 1, y0 + h + thickness - 1),
            GREEN,
            thickness,
        )
        top = y0 - thickness - th - base - 2 * pad
        cv2.rectangle(
            out, (x0 - thickness, top), (x0 - thickness + tw + 2 * pad, y0 - thickness), GREEN, -1
        )
        put_text(out, text, (x0 - thickness + pad, top + pad + th), scale, WHITE, thickness)
    for (x, y, w, h), *_ in labels:  # boxes and labels go around faces, never over them
        out[y + band : y + band + h, x + thickness : x + thickness + w] = image[
            y : y + h, x : x + w
        ]
    return out


# A colour per class (BGR), in the classes' order: red, amber, blue, green, purple, orange, grey,
# teal.
CLASS_COLOURS = (
    (50, 50, 210),
    (0, 170, 240),
    (200, 110, 30),
    (60, 160, 60),
    (170, 70, 170),
    (20, 120, 230),
    (130, 130, 130),
)


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
        put_text(image, name, (x + 20, 24))
        x += 40 + cv2.getTextSize(name, FONT, 0.5, 1)[0][0]
    for row, (face, samples) in enumerate(faces):
        top = legend + row * panel
        put_text(image, f"face {face}", (8, top + curves // 2 + 5))
        cv2.rectangle(image, (left, top), (left + plot, top + curves), (200, 200, 200), 1)
        put_text(image, "1", (left - 12, top + 8), 0.4)
        put_text(image, "0", (left - 12, top + curves), 0.4)
        band = top + curves + 4
        for (time, probabilities), later in zip(samples, [*samples[1:], None], strict=True):
            top_class = int(np.argmax(probabilities))
            cv2.rectangle(
                image,
                (x_at(time), band),
                (max(x_at(time + step) - 1, x_at(time)), band + 14),
                colours[top_class],
                -1,
            )
            if (
                later is None or later[0] - time > 1.5 * step
            ):  # the face was missed: no line across the gap
                continue
            for k, colour in enumerate(colours):
                y0, y1 = (top + round(curves * (1 - p[k])) for p in (probabilities, later[1]))
                cv2.line(image, (x_at(time), y0), (x_at(later[0]), y1), colour, 2, cv2.LINE_AA)
    baseline = legend + panel * len(faces)
    tick = next(
        t
        for t in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
        if span / t <= 10 or t == 3600
    )
    for k in range(int(span / tick) + 1):
        x = x_at(k * tick)
        cv2.line(image, (x, baseline - 6), (x, baseline), BLACK, 1)
        put_text(image, f"{k * tick:g}", (x - 6, baseline + 14), 0.45)
    put_text(image, "seconds", (left + plot - 60, baseline + 30), 0.45)
    return image
