"""Reading and preprocessing one image: the single code path shared by prepare and predict."""

from __future__ import annotations

import functools
import os
import struct
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"})
MIN_SIDE = 2  # a 1x1 "image" carries no face
# Haar boxes stop at the brows and chin; face crops in data sets show a little more
FACE_MARGIN = 0.15
MIN_FACE = 20  # pixels: smaller detections are noise at the sizes we classify
# A face found this wide (a share of the image's width) or wider: the image already is a face crop.
# The cascade finds a face in a quarter of FER-2013's test faces, 0.75 to 1.0 of their width (0.77
# or more in 95% of them, upscaled 4x).
CROP_SHARE = 0.5
DETECT_SIDE = 1024  # larger photos are searched at this size: as accurate for faces, far faster
# Memory bound: an image of more pixels than this is refused, or, a JPEG, decoded at 1/2, 1/4 or 1/8
# scale (libjpeg scales while decoding); one 20000x20000 PNG once took prepare from 62 MB to 3.6 GB.
MAX_PIXELS = 100_000_000  # 10000x10000: a 100-megapixel photo decodes to 100 MB of gray pixels
_REDUCED = {
    "gray": {
        2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
        4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
        8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
    },
    "rgb": {
        2: cv2.IMREAD_REDUCED_COLOR_2,
        4: cv2.IMREAD_REDUCED_COLOR_4,
        8: cv2.IMREAD_REDUCED_COLOR_8,
    },
}
_FULL = {"gray": cv2.IMREAD_GRAYSCALE, "rgb": cv2.IMREAD_COLOR}
CHANNELS = {"gray": 1, "rgb": 3}

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


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's start-of-frame segment."""
    i = 2
    while i + 9 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        # fill byte, markers without a length
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 1 if marker == 0xFF else 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a TIFF's first image directory (tags 256 and 257)."""
    order = "<" if data[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack(order + "I", data[4:8])
        (count,) = struct.unpack(order + "H", data[offset : offset + 2])
        found = {}
        for entry in range(offset + 2, offset + 2 + 12 * count, 12):
            tag, kind, _, value = struct.unpack(order + "HHI4s", data[entry : entry + 12])
            if tag in (256, 257):
                found[tag] = (
                    struct.unpack(order + "H", value[:2])[0]
                    if kind == 3
                    else struct.unpack(order + "I", value)[0]
                )
        return found[256], found[257]
    except (struct.error, KeyError):
        return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, BMP, TIFF or WebP image from its header, without decoding
    it; None when the header is not one of these (OpenCV's own limit, a gigapixel, then applies)."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return struct.unpack(">II", data[16:24])
        if data[:2] == b"\xff\xd8":
            return _jpeg_size(data)
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_size(data)
        if data[:2] == b"BM":
            if struct.unpack("<I", data[14:18])[0] == 12:  # the old OS/2 header: 16-bit sides
                return struct.unpack("<HH", data[18:22])
            width, height = struct.unpack("<ii", data[18:26])
            return abs(width), abs(height)  # a negative height means top-down rows
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(
                    data[27:30], "little"
                )
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return 1 + (bits & 0x3FFF), 1 + (bits >> 14 & 0x3FFF)
            if chunk == b"VP8 ":
                width, height = struct.unpack("<HH", data[26:30])
                return width & 0x3FFF, height & 0x3FFF
    except struct.error:  # a header cut short
        pass
    return None


def _decode_flags(data: bytes, color: str) -> int:
    """Grayscale or colour, at the scale that keeps the decoded image within ``MAX_PIXELS``."""
    size = header_size(data)
    if size is None or size[0] * size[1] <= MAX_PIXELS:
        return _FULL[color]
    pixels = size[0] * size[1]
    factor = next((f for f in sorted(_REDUCED[color]) if pixels <= MAX_PIXELS * f * f), None)
    # other decoders read the whole image before shrinking it
    if factor is None or data[:2] != b"\xff\xd8":
        raise BadImage(
            f"too large ({size[0]}x{size[1]} pixels; the limit is {MAX_PIXELS / 1e6:g} megapixels)"
        )
    return _REDUCED[color][factor]


def listed(path: Path) -> bool:
    """Whether a listing of inputs keeps ``path``: a file, or a link, whatever it leads to, so that
    a link that cannot be read is reported (``broken_link``, ``read_image``) rather than left
    out."""
    return path.is_file() or path.is_symlink()


def broken_link(path: Path) -> str | None:
    """Why ``path`` cannot be read when it is a link that leads nowhere; None otherwise."""
    return (
        f"broken link (to {os.readlink(path)})" if path.is_symlink() and not path.exists() else None
    )


def read_image(path: Path, color: str = "gray") -> np.ndarray:
    """Decode any common format (colour, alpha, 16-bit) to 8-bit pixels, grayscale (H, W) or RGB
    (H, W, 3) by ``color``, within ``MAX_PIXELS``: a larger JPEG is shrunk while decoding, any
    other larger image refused."""
    if reason := broken_link(path):
        raise BadImage(reason)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadImage(f"cannot read file: {err.strerror or err}") from None
    return decode_image(data, color)


def decode_image(data: bytes, color: str = "gray") -> np.ndarray:
    """An image file's bytes (read from disk or from a packed source) decoded as ``read_image``
    says."""
    if not data:
        raise BadImage("empty file")
    if _looks_truncated(data):
        raise BadImage("truncated JPEG")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), _decode_flags(data, color))
    if image is None:
        raise BadImage("not a readable image")
    if min(image.shape[:2]) < MIN_SIDE:
        raise BadImage(f"too small ({image.shape[1]}x{image.shape[0]} pixels)")
    return image if color == "gray" else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def in_color(image: np.ndarray, color: str) -> np.ndarray:
    """8-bit pixels, grayscale (H, W) or RGB (H, W, 3), as ``color`` asks: a gray source (a FER-2013
    CSV) repeats its one channel; a colour one is converted."""
    if color == "gray":
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image


def from_bgr(frame: np.ndarray, color: str) -> np.ndarray:
    """A BGR video frame as ``read_image`` would give it."""
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY if color == "gray" else cv2.COLOR_BGR2RGB)


@functools.cache
def _face_cascade() -> cv2.CascadeClassifier:
    """OpenCV's bundled frontal-face Haar cascade: no download, loaded once per process."""
    cascades = cv2.data.haarcascades  # type: ignore[attr-defined]  # missing from OpenCV's type stubs
    return cv2.CascadeClassifier(str(Path(cascades) / "haarcascade_frontalface_default.xml"))


def detect_faces(image: np.ndarray) -> list[Box]:
    """Faces in an image (the cascade looks at its gray levels), largest first, each box widened by
    ``FACE_MARGIN`` and clipped."""
    gray = in_color(image, "gray")
    height, width = gray.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = (
        gray
        if scale == 1.0
        else cv2.resize(
            gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    )
    found = _face_cascade().detectMultiScale(
        small, scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE, MIN_FACE)
    )
    boxes = []
    for x, y, w, h in sorted(
        (tuple(round(v / scale) for v in f) for f in found), key=lambda b: -b[2] * b[3]
    ):
        dx, dy = int(w * FACE_MARGIN), int(h * FACE_MARGIN)
        x0, y0 = max(0, x - dx), max(0, y - dy)
        boxes.append((x0, y0, min(width, x + w + dx) - x0, min(height, y + h + dy) - y0))
    return boxes


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return image[y : y + h, x : x + w]


def resize_face(image: np.ndarray, size: int) -> np.ndarray:
    """An 8-bit image resized to size x size: by pixel areas when shrinking, linearly when
    enlarging. Prepare stores these bytes; ``to_input`` makes them the model's input."""
    shrinking = image.shape[0] > size or image.shape[1] > size
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)


def to_input(faces: np.ndarray) -> np.ndarray:
    """Faces as 8-bit pixels (any shape) scaled to [0, 1] float32: what the network reads."""
    return faces.astype(np.float32) / 255.0


def preprocess(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an 8-bit image to size x size and scale its pixels to [0, 1] (float32)."""
    return to_input(resize_face(image, size))


def face_crops(
    image: np.ndarray, size: int, face_detect: bool
) -> list[tuple[Box | None, np.ndarray]]:
    """The one way a decoded image becomes faces, shared by prepare and predict so they cannot
    drift apart: the whole image, or with ``face_detect`` each face found (largest first; none is
    []), each resized to size x size, 8-bit."""
    if not face_detect:
        return [(None, resize_face(image, size))]
    return [(box, resize_face(crop(image, box), size)) for box in detect_faces(image)]


def model_inputs(
    image: np.ndarray, size: int, face_detect: bool
) -> list[tuple[Box | None, np.ndarray]]:
    """What predict classifies in an image, as the model's inputs. A model trained on the faces
    found in photos (``face_detect``) gets the faces found, as prepare cropped them. A model trained
    on face crops (FER-2013's, another detector's) gets each face found in a photo, but an image
    that already is a crop whole, as evaluate sees it: one where no face is found, or whose largest
    face spans at least ``CROP_SHARE`` of its width. An image at most twice the model's input
    size is taken for a crop unsearched (a photo of faces to find is larger; FER-2013's 48-pixel
    faces are read 2.4 times as fast without the search)."""
    if not face_detect:
        if max(image.shape[:2]) <= 2 * size:
            return [(None, preprocess(image, size))]
        boxes = detect_faces(image)
        if not boxes or boxes[0][2] >= CROP_SHARE * image.shape[1]:
            return [(None, preprocess(image, size))]
        return [(box, preprocess(crop(image, box), size)) for box in boxes]
    return [(box, to_input(face)) for box, face in face_crops(image, size, face_detect)]
