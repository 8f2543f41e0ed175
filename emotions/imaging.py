"""Reading and preprocessing one image: the single code path shared by prepare and predict."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
MIN_SIDE = 2  # a 1x1 "image" carries no face
FACE_MARGIN = 0.15  # Haar boxes stop at the brows and chin; face crops in data sets show a little more
MIN_FACE = 20  # pixels: smaller detections are noise at the sizes we classify
DETECT_SIDE = 1024  # larger photos are searched at this size: as accurate for faces, far faster

Box = tuple[int, int, int, int]  # x, y, width, height


class BadImage(Exception):
    """An image file that cannot be used; the message says why, for the manifest or the user."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _looks_truncated(data: bytes) -> bool:
    """A JPEG must end with its end-of-image marker; OpenCV would decode a cut one as grey fill."""
    if data[:2] == b"\xff\xd8":
        return not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")
    return False


def read_gray(path: Path) -> np.ndarray:
    """Decode any common format (colour, alpha, 16-bit) to an 8-bit grayscale array."""
    if path.is_symlink() and not path.exists():
        raise BadImage(f"broken link (to {os.readlink(path)})")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadImage(f"cannot read file: {err.strerror or err}") from None
    if not data:
        raise BadImage("empty file")
    if _looks_truncated(data):
        raise BadImage("truncated JPEG")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise BadImage("not a readable image")
    if min(image.shape[:2]) < MIN_SIDE:
        raise BadImage(f"too small ({image.shape[1]}x{image.shape[0]} pixels)")
    return image


@functools.cache
def _face_cascade() -> cv2.CascadeClassifier:
    """OpenCV's bundled frontal-face Haar cascade: no download, loaded once per process."""
    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def detect_faces(gray: np.ndarray) -> list[Box]:
    """Faces in a grayscale image, largest first, each box widened by ``FACE_MARGIN`` and clipped."""
    height, width = gray.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = gray if scale == 1.0 else cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    found = _face_cascade().detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE, MIN_FACE))
    boxes = []
    for x, y, w, h in sorted((tuple(round(v / scale) for v in f) for f in found), key=lambda b: -b[2] * b[3]):
        dx, dy = int(w * FACE_MARGIN), int(h * FACE_MARGIN)
        x0, y0 = max(0, x - dx), max(0, y - dy)
        boxes.append((x0, y0, min(width, x + w + dx) - x0, min(height, y + h + dy) - y0))
    return boxes


def crop(gray: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return gray[y : y + h, x : x + w]


def preprocess(gray: np.ndarray, size: int) -> np.ndarray:
    """Resize an 8-bit grayscale image to size x size and scale its pixels to [0, 1] (float32)."""
    shrinking = gray.shape[0] > size or gray.shape[1] > size
    resized = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized.astype(np.float32) / 255.0


def model_inputs(gray: np.ndarray, size: int, face_detect: bool) -> list[tuple[Box | None, np.ndarray]]:
    """The one way a decoded image becomes model inputs, shared by prepare and predict so they cannot
    drift apart: the whole image, or with ``face_detect`` each face found (largest first; none is [])."""
    if not face_detect:
        return [(None, preprocess(gray, size))]
    return [(box, preprocess(crop(gray, box), size)) for box in detect_faces(gray)]
