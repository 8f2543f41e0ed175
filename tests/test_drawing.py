"""Annotated pictures: labels that fit and never cover the face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


@pytest.mark.parametrize("size", [64, 1000])
def test_annotated_labels_fit_and_leave_the_face_untouched(size: int) -> None:
    from emotions.drawing import FONT
    from emotions.prediction.drawing import annotate

    rng = np.random.default_rng(size)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    box = (
        size // 4,
        0,
        size // 2,
        size // 2,
    )  # a face at the top edge: no room above it in the photo
    for faces in ([(None, "happy", 1.0)], [(box, "angry", 0.42)]):
        out = annotate(image, faces)
        (x, y, w, h) = faces[0][0] or (0, 0, size, size)
        face = image[y : y + h, x : x + w]
        _, _, (left, top), _ = cv2.minMaxLoc(cv2.matchTemplate(out, face, cv2.TM_SQDIFF))
        assert np.array_equal(
            out[top : top + h, left : left + w], face
        )  # the face's pixels, all unchanged
        label = f"{faces[0][1]} {faces[0][2]:.0%}"
        assert (
            out.shape[1] >= cv2.getTextSize(label, FONT, 0.5, 1)[0][0]
        )  # room for a readable label
        assert (out[:top] != 255).any()  # the label, above the face
