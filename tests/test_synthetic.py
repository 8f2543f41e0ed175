"""Tests for the synthetic face generator: determinism, layout, and that the classes really
differ."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions import params
from emotions.demo.faces import EXPRESSIONS, draw_face, drawable, write_sample
from tests.conftest import ROOT


def sample(
    per_class: int = 3, new_per_class: int = 1, seed: int = 0, image_size: int = 64
) -> params.SampleParams:
    return params.SampleParams(
        per_class=per_class, new_per_class=new_per_class, image_size=image_size, seed=seed
    )


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, by relative path, with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _load(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, path
    return image


def _faces(expression: str, n: int, seed: int = 0, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([draw_face(expression, rng, size) for _ in range(n)]).astype(np.float64)


def test_the_default_classes_are_drawn_so_a_fresh_clone_runs() -> None:
    data = params.load(params.DataParams, params.read_yaml(ROOT / "params.yaml"))
    assert all(drawable(name) for name in data.classes + data.extra_classes)
    assert drawable("Happy") and not drawable("disgust")  # folder names match in any case


@pytest.mark.parametrize("expression", EXPRESSIONS)
@pytest.mark.parametrize("size", [48, 64])
def test_draw_face_shape_dtype_and_contrast(expression: str, size: int) -> None:
    image = draw_face(expression, np.random.default_rng(1), size)
    assert image.dtype == np.uint8
    assert image.shape == (size, size)
    assert image.std() > 10  # a face, not a blank frame


def test_draw_face_is_deterministic_and_varied() -> None:
    a = draw_face("happy", np.random.default_rng(7))
    b = draw_face("happy", np.random.default_rng(7))
    c = draw_face("happy", np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_draw_face_rejects_unknown_expression() -> None:
    with pytest.raises(ValueError, match="disgust"):
        draw_face("disgust", np.random.default_rng(0))


def test_layout_and_counts(tmp_path: Path) -> None:
    counts = write_sample(
        tmp_path, sample(per_class=5, new_per_class=2, seed=3), ["angry", "happy", "sad"]
    )
    assert counts == {"angry": 5, "happy": 5, "sad": 5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces", "new"]
    for name in ("angry", "happy", "sad"):
        files = sorted(p.name for p in (tmp_path / "faces" / name).iterdir())
        assert files == [f"{name}_{i:04d}.png" for i in range(5)]
        for f in files:
            assert _load(tmp_path / "faces" / name / f).shape == (64, 64)
    new = sorted(p.name for p in (tmp_path / "new").iterdir())
    assert new == sorted(f"{name}_{i}.png" for name in ("angry", "happy", "sad") for i in range(2))


def test_size_is_respected_and_no_new_dir_when_not_asked(tmp_path: Path) -> None:
    write_sample(tmp_path, sample(new_per_class=0, image_size=32), ["neutral"])
    assert _load(tmp_path / "faces" / "neutral" / "neutral_0000.png").shape == (32, 32)
    assert not (tmp_path / "new").exists()


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    p = sample(per_class=4, new_per_class=2, seed=11)
    write_sample(tmp_path / "a", p, ["angry", "happy", "sad"])
    write_sample(tmp_path / "b", p, ["angry", "happy", "sad"])
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == 3 * 4 + 3 * 2
    assert a == b


def test_different_seed_gives_different_images(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", sample(per_class=4, seed=1), ["happy", "sad"])
    write_sample(tmp_path / "b", sample(per_class=4, seed=2), ["happy", "sad"])
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)


def test_a_class_does_not_depend_on_the_other_classes(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", sample(seed=5), ["happy"])
    write_sample(tmp_path / "b", sample(seed=5), ["sad", "happy", "angry"])
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == {k: v for k, v in b.items() if "happy" in k}


def test_new_images_are_not_copies_of_faces(tmp_path: Path) -> None:
    write_sample(tmp_path, sample(per_class=20, new_per_class=3), ["angry", "happy", "sad"])
    faces = np.stack([_load(p) for p in sorted((tmp_path / "faces").rglob("*.png"))]).astype(
        np.float64
    )
    for path in sorted((tmp_path / "new").glob("*.png")):
        image = _load(path).astype(np.float64)
        closest = np.abs(faces - image).mean(axis=(1, 2)).min()
        assert closest > 5.0, f"{path.name} is a near-copy of a training face"


def _mouth(images: np.ndarray) -> np.ndarray:
    """The lower-middle part of the frame, where the mouth is."""
    h, w = images.shape[1:]
    return images[:, int(h * 0.6) : int(h * 0.95), int(w * 0.2) : int(w * 0.8)]


def _brows(images: np.ndarray) -> np.ndarray:
    """The upper-middle part of the frame, where the brows are."""
    h, w = images.shape[1:]
    return images[:, int(h * 0.1) : int(h * 0.4), int(w * 0.1) : int(w * 0.9)]


@pytest.mark.parametrize(
    ("first", "second", "region"),
    [
        ("happy", "sad", _mouth),  # smile vs frown
        ("angry", "sad", _brows),  # brows lowered vs raised toward the nose
        ("angry", "happy", _brows),
        ("neutral", "surprise", _mouth),  # closed vs round open mouth
    ],
)
def test_classes_differ_where_real_expressions_do(first: str, second: str, region) -> None:
    """A nearest-mean classifier on one face region tells two classes apart on unseen faces."""

    def features(expression: str, seed: int) -> np.ndarray:
        x = region(_faces(expression, 60, seed=seed))
        # Light is varied per image: compare images normalised to zero mean, unit spread.
        x = (x - x.mean(axis=(1, 2), keepdims=True)) / (x.std(axis=(1, 2), keepdims=True) + 1e-6)
        return x.reshape(len(x), -1)

    train = [features(first, 1), features(second, 2)]
    test = [features(first, 3), features(second, 4)]
    means = np.stack([t.mean(axis=0) for t in train])
    hits = [
        ((t[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1) == k
        for k, t in enumerate(test)
    ]
    accuracy = float(np.concatenate(hits).mean())
    assert accuracy >= 0.68, accuracy  # chance is 0.5


def test_classes_it_cannot_draw_are_left_out_and_extra_classes_get_no_new_images(
    tmp_path: Path,
) -> None:
    """A data set of one's own may have classes the generator cannot draw: the sample stage must
    still run (it is a stage of dvc.yaml), so they are left out and the others drawn as always."""
    counts = write_sample(
        tmp_path / "mixed", sample(), ["happy", "disgust", "Sad"], ["contempt", "neutral"]
    )
    assert counts == {"happy": 3, "Sad": 3, "neutral": 3}
    mixed = _files(tmp_path / "mixed")
    assert sorted(name for name in mixed if name.startswith("new/")) == [
        "new/Sad_0.png",
        "new/happy_0.png",
    ]
    write_sample(tmp_path / "drawable", sample(), ["happy", "sad"])
    assert {k: v for k, v in mixed.items() if "neutral" not in k} == {
        k.replace("sad", "Sad"): v for k, v in _files(tmp_path / "drawable").items()
    }
    assert write_sample(tmp_path / "none", sample(), ["contempt", "disgust"]) == {}
    assert not (tmp_path / "none").exists()
