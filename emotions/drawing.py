"""Drawing shared by the reports and by predict: colours, text, and occlusion maps laid over faces,
with OpenCV (no plotting library needed)."""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE, BLACK, RED, GREEN = (255, 255, 255), (0, 0, 0), (40, 40, 220), (40, 160, 40)
# smaller probability drops are float32 rounding (steps of 6e-8 near 1), not causes: never shown hot
HEAT_FLOOR = 1e-6
HEAT_ALPHA = 0.5  # the colours' share of a heat map's blend with the face


def put_text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    scale: float = 0.5,
    color=BLACK,
    thickness: int = 1,
) -> None:
    cv2.putText(image, text, origin, FONT, scale, color, thickness, cv2.LINE_AA)


def to_bgr(face: np.ndarray) -> np.ndarray:
    """An 8-bit face, grayscale (H, W) or (H, W, 1) or RGB (H, W, 3), as OpenCV's BGR."""
    if face.ndim == 3 and face.shape[2] == 3:
        return cv2.cvtColor(face, cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(face.reshape(face.shape[:2]), cv2.COLOR_GRAY2BGR)


def heat_overlay(face: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """A BGR picture of an 8-bit face (grayscale or RGB) with an occlusion map (of any size,
    probability drops) stretched over it and colour-mapped: red where hiding the face lowered its
    label's probability most, blue where hiding it cost nothing or helped. The colours span the
    map's own largest drop: they show where, not how much (a very sure model's largest drops can be
    under 0.01)."""
    share = np.clip(heat / max(float(heat.max()), HEAT_FLOOR), 0, 1).astype(np.float32)
    stretched = cv2.resize(share, (face.shape[1], face.shape[0]), interpolation=cv2.INTER_LINEAR)
    colours = cv2.applyColorMap(np.round(stretched * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(to_bgr(face), 1 - HEAT_ALPHA, colours, HEAT_ALPHA, 0)
