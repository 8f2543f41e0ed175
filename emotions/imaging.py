"""Reading and preprocessing one image: the single code path shared by prepare and predict."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
MIN_SIDE = 2  # a 1x1 "image" carries no face


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


def preprocess(gray: np.ndarray, size: int) -> np.ndarray:
    """Resize an 8-bit grayscale image to size x size and scale its pixels to [0, 1] (float32)."""
    shrinking = gray.shape[0] > size or gray.shape[1] > size
    resized = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized.astype(np.float32) / 255.0


def load_image(path: Path, size: int) -> np.ndarray:
    """The whole path from a file to a model input: what prepare stores is what predict feeds."""
    return preprocess(read_gray(path), size)
