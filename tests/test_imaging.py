from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions.imaging import BadImage, crop, detect_faces, model_inputs, preprocess, read_gray
from tests.conftest import drawn_face, shape_image, write_image


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
def test_common_formats_read_as_8bit_gray(tmp_path: Path, suffix: str) -> None:
    path = write_image(tmp_path / f"face{suffix}", shape_image(0))
    gray = read_gray(path)
    assert gray.dtype == np.uint8 and gray.shape == (24, 24)


def test_colour_alpha_and_16bit_become_8bit_gray(tmp_path: Path) -> None:
    base = shape_image(1)
    colour = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    alpha = cv2.cvtColor(base, cv2.COLOR_GRAY2BGRA)
    deep = base.astype(np.uint16) * 257
    for name, image in {"c.png": colour, "a.png": alpha, "d.png": deep}.items():
        gray = read_gray(write_image(tmp_path / name, image))
        assert gray.dtype == np.uint8 and gray.ndim == 2
        assert np.abs(gray.astype(int) - base.astype(int)).max() <= 1, name


def test_preprocess_resizes_and_scales_to_unit_range() -> None:
    out = preprocess(np.full((100, 60), 255, np.uint8), 16)
    assert out.shape == (16, 16) and out.dtype == np.float32
    assert out.min() == pytest.approx(1.0) and out.max() == pytest.approx(1.0)
    assert preprocess(np.zeros((4, 4), np.uint8), 16).max() == 0.0


def test_model_inputs_without_detection_is_the_whole_image() -> None:
    gray = shape_image(2)
    [(box, image)] = model_inputs(gray, 16, face_detect=False)
    assert box is None
    np.testing.assert_array_equal(image, preprocess(gray, 16))


def test_face_detection_finds_the_face_and_crops_it() -> None:
    gray = drawn_face()
    boxes = detect_faces(gray)
    assert boxes, "the cascade should find the drawn face"
    x, y, w, h = boxes[0]
    assert 0 <= x and 0 <= y and x + w <= 200 and y + h <= 200 and w >= 40
    [(box, image)] = model_inputs(gray, 16, face_detect=True)[:1]
    assert box == boxes[0]
    np.testing.assert_array_equal(image, preprocess(crop(gray, box), 16))


def test_no_face_gives_no_inputs() -> None:
    assert model_inputs(np.full((100, 100), 90, np.uint8), 16, face_detect=True) == []


def test_truncated_jpeg_is_rejected(tmp_path: Path) -> None:
    good = write_image(tmp_path / "good.jpg", shape_image(0, size=64))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(BadImage, match="truncated JPEG"):
        read_gray(cut)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"just some text, not pixels", "not a readable image")],
)
def test_non_images_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(BadImage, match=message):
        read_gray(path)


def test_one_pixel_image_is_rejected(tmp_path: Path) -> None:
    path = write_image(tmp_path / "dot.png", np.zeros((1, 1), np.uint8))
    with pytest.raises(BadImage, match=r"too small \(1x1 pixels\)"):
        read_gray(path)
