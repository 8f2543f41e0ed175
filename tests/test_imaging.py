from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions.data import imaging
from emotions.data.imaging import (
    CROP_SHARE,
    BadImage,
    crop,
    detect_faces,
    header_size,
    model_inputs,
    preprocess,
    read_image,
)
from tests.conftest import PEAK_MB, ROOT, drawn_face, plain_png, shape_image, write_image

# Peak memory of a child process, as Python code: its address space's high-water mark (VmHWM), not
# getrusage's ru_maxrss, which a child inherits from the test process it was forked from.


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
def test_common_formats_read_as_8bit_gray(tmp_path: Path, suffix: str) -> None:
    path = write_image(tmp_path / f"face{suffix}", shape_image(0))
    gray = read_image(path)
    assert gray.dtype == np.uint8 and gray.shape == (24, 24)


def test_colour_alpha_and_16bit_become_8bit_gray(tmp_path: Path) -> None:
    base = shape_image(1)
    colour = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    alpha = cv2.cvtColor(base, cv2.COLOR_GRAY2BGRA)
    deep = base.astype(np.uint16) * 257
    for name, image in {"c.png": colour, "a.png": alpha, "d.png": deep}.items():
        gray = read_image(write_image(tmp_path / name, image))
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


def test_a_crop_model_classifies_a_crop_whole_and_each_face_of_a_photo() -> None:
    """A model trained on crops (no ``face_detect``): a face crop, found or not by the cascade, is
    one whole input; a photo with two small faces is two inputs, each its face's crop."""
    face = drawn_face()
    for image in (face, shape_image(2)):  # a face spanning the image; nothing the cascade finds
        [(box, whole)] = model_inputs(image, 16, face_detect=False)
        assert box is None
        np.testing.assert_array_equal(whole, preprocess(image, 16))
    photo = np.full((700, 700), 128, np.uint8)
    photo[400:600, 50:250] = face
    photo[50:250, 400:600] = face
    inputs = model_inputs(photo, 16, face_detect=False)
    assert [box for box, _ in inputs] == detect_faces(photo) and len(inputs) == 2
    for box, image in inputs:
        assert box is not None and box[2] < CROP_SHARE * 700
        np.testing.assert_array_equal(image, preprocess(crop(photo, box), 16))


def test_no_face_gives_no_inputs() -> None:
    assert model_inputs(np.full((100, 100), 90, np.uint8), 16, face_detect=True) == []


def test_truncated_jpeg_is_rejected(tmp_path: Path) -> None:
    good = write_image(tmp_path / "good.jpg", shape_image(0, size=64))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(BadImage, match="truncated JPEG"):
        read_image(cut)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"just some text, not pixels", "not a readable image")],
)
def test_non_images_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(BadImage, match=message):
        read_image(path)


def test_one_pixel_image_is_rejected(tmp_path: Path) -> None:
    path = write_image(tmp_path / "dot.png", np.zeros((1, 1), np.uint8))
    with pytest.raises(BadImage, match=r"too small \(1x1 pixels\)"):
        read_image(path)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
@pytest.mark.parametrize("channels", [1, 3])
def test_header_size_without_decoding(tmp_path: Path, suffix: str, channels: int) -> None:
    image = np.zeros((37, 53, channels), np.uint8).squeeze()
    assert header_size(write_image(tmp_path / f"x{suffix}", image).read_bytes()) == (53, 37)
    assert (
        header_size(b"\xff\xd8\xff") is None and header_size(b"\x89PNG\r\n\x1a\n") is None
    )  # cut short


def test_an_image_over_the_limit_is_refused_or_a_jpeg_shrunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imaging, "MAX_PIXELS", 100 * 100)
    big = shape_image(0, size=400)[:300]
    assert read_image(write_image(tmp_path / "big.jpg", big)).shape == (
        75,
        100,
    )  # 1/4 scale: 7,500 pixels
    with pytest.raises(
        BadImage, match=r"^too large \(400x300 pixels; the limit is 0.01 megapixels\)$"
    ):
        read_image(write_image(tmp_path / "big.png", big))
    with pytest.raises(BadImage, match=r"too large \(1000x1000 pixels"):  # beyond even 1/8 scale
        read_image(write_image(tmp_path / "huge.jpg", np.zeros((1000, 1000), np.uint8)))
    assert read_image(write_image(tmp_path / "small.png", big[:100, :100])).shape == (100, 100)


def test_a_huge_png_is_refused_without_decoding_it(tmp_path: Path) -> None:
    """A 20000x20000 PNG (400 MB of pixels, 2 MB on disk) once took prepare to 3.6 GB."""
    path = plain_png(tmp_path / "huge.png", 20000, 20000)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from emotions.data.imaging import BadImage, read_image\n"
        "try:\n"
        "    read_image(Path(sys.argv[1]))\n"
        "except BadImage as err:\n"
        "    print(err)\n"
        f"print({PEAK_MB})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    message, peak_mb = result.stdout.splitlines()
    assert message == "too large (20000x20000 pixels; the limit is 100 megapixels)"
    assert int(peak_mb) < 200, f"peak memory {peak_mb} MB"
