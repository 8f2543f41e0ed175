from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions.errors import UserError
from emotions.synthetic import EXPRESSIONS, draw_face, write_sample

CLASSES = ("angry", "happy", "sad")


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_layout_counts_and_shape(tmp_path: Path) -> None:
    counts = write_sample(tmp_path, CLASSES, per_class=4, new_per_class=2, seed=1, size=32)
    assert counts == {c: 4 for c in CLASSES}
    assert sorted(p.name for p in (tmp_path / "faces" / "sad").iterdir()) == [f"sad_{i:04d}.png" for i in range(4)]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(f"{c}_{i}.png" for c in CLASSES for i in (0, 1))
    image = cv2.imread(str(tmp_path / "faces" / "angry" / "angry_0000.png"), cv2.IMREAD_UNCHANGED)
    assert image.shape == (32, 32) and image.dtype == np.uint8
    face = draw_face("happy", np.random.default_rng(0), 48)
    assert face.shape == (48, 48) and face.dtype == np.uint8 and face.std() > 5


def test_same_seed_same_bytes_other_seed_other_images(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", CLASSES, 3, 1, seed=5)
    write_sample(tmp_path / "b", CLASSES, 3, 1, seed=5)
    write_sample(tmp_path / "c", CLASSES, 3, 1, seed=6)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_new_images_are_not_copies_of_training_faces(tmp_path: Path) -> None:
    write_sample(tmp_path, CLASSES, 20, 3, seed=2)
    faces = set(files(tmp_path / "faces").values())
    assert not faces & set(files(tmp_path / "new").values())


def test_classes_differ_where_expressions_do() -> None:
    """Mean images per class differ (mouth and brows), beyond the within-class noise."""
    means = {c: np.mean([draw_face(c, np.random.default_rng(i), 48).astype(float) for i in range(40)], axis=0) for c in CLASSES}
    for a, b in (("angry", "happy"), ("happy", "sad"), ("angry", "sad")):
        assert np.abs(means[a] - means[b]).max() > 20, (a, b)


def test_every_listed_expression_draws() -> None:
    assert {"angry", "happy", "sad", "neutral", "surprise"} <= set(EXPRESSIONS)
    for name in EXPRESSIONS:
        assert draw_face(name, np.random.default_rng(0), 32).shape == (32, 32)


def test_unknown_expression_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="the sample generator cannot draw 'disgust'"):
        write_sample(tmp_path / "out", ("angry", "disgust"), 2, 1, seed=0)
    assert not (tmp_path / "out").exists()
