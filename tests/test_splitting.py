from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotions.data import splitting
from emotions.data.hygiene import ROLES
from emotions.errors import UserError

CLASSES = ("a", "b", "c")


def labels() -> np.ndarray:
    return np.repeat(np.arange(3), [40, 100, 60])


NO_PARTS = np.zeros(200, np.int8)


def codes(roles: np.ndarray) -> np.ndarray:
    """Part names as the codes prepare stores."""
    return np.array([ROLES.index(name) for name in roles], np.int8)


def test_named_parts_are_kept_and_validation_comes_from_training() -> None:
    roles = np.where(np.arange(200) % 5 == 0, "test", "train")
    parts = splitting.split(labels(), codes(roles), CLASSES, 0.1, 0.3, seed=0)
    np.testing.assert_array_equal(parts["test"], np.flatnonzero(roles == "test"))
    assert set(parts["val"]) | set(parts["train"]) == set(np.flatnonzero(roles == "train"))
    assert not set(parts["val"]) & set(parts["train"])
    assert len(parts["val"]) == pytest.approx(160 * 0.1, abs=2)


def test_a_named_validation_part_is_used_as_is() -> None:
    roles = np.array(["train", "val", "test", "train"] * 50)
    parts = splitting.split(labels(), codes(roles), CLASSES, 0.1, 0.1, seed=0)
    for part in splitting.PARTS:
        np.testing.assert_array_equal(parts[part], np.flatnonzero(roles == part))


def test_parts_are_disjoint_complete_and_stratified() -> None:
    split = splitting.split(labels(), NO_PARTS, CLASSES, 0.15, 0.15, seed=1)
    everything = np.concatenate(list(split.values()))
    assert len(everything) == 200 and len(np.unique(everything)) == 200
    for part, fraction in (("val", 0.15), ("test", 0.15), ("train", 0.7)):
        counts = np.bincount(labels()[split[part]], minlength=3)
        np.testing.assert_allclose(counts, np.array([40, 100, 60]) * fraction, atol=1)


def test_same_seed_same_split_other_seed_other_split() -> None:
    a = splitting.split(labels(), NO_PARTS, CLASSES, 0.2, 0.2, seed=7)
    b = splitting.split(labels(), NO_PARTS, CLASSES, 0.2, 0.2, seed=7)
    c = splitting.split(labels(), NO_PARTS, CLASSES, 0.2, 0.2, seed=8)
    assert all(np.array_equal(a[p], b[p]) for p in splitting.PARTS)
    assert not np.array_equal(a["test"], c["test"])


def test_too_few_images_in_a_class_is_named() -> None:
    tiny = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    with pytest.raises(UserError, match=r"split: class 'b' has 2 images, too few"):
        splitting.split(tiny, np.zeros(8, np.int8), CLASSES, 0.2, 0.2, seed=0)


def test_save_and_load(tmp_path: Path) -> None:
    split = splitting.split(labels(), NO_PARTS, CLASSES, 0.1, 0.1, seed=0)
    splitting.save(split, tmp_path / "split.npz")
    loaded = splitting.load(tmp_path / "split.npz")
    assert all(np.array_equal(split[p], loaded[p]) for p in splitting.PARTS)
    with pytest.raises(UserError, match="split not found"):
        splitting.load(tmp_path / "none.npz")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "split.npz").read_bytes()[:100])
    with pytest.raises(UserError, match=r"cut.npz: damaged split .*rerun `dvc repro split`"):
        splitting.load(tmp_path / "cut.npz")


@pytest.mark.parametrize("with_parts", [False, True])
def test_extra_classes_only_train_and_only_from_the_training_part(with_parts: bool) -> None:
    """Labels 3 and 4 stand for extra classes: never validated or tested on, and never taken from a
    held-out part into training."""
    extra_labels = np.concatenate([labels(), np.repeat([3, 4], 50)])
    roles = (
        np.array(["train", "train", "test", "train", "val"] * 60)
        if with_parts
        else np.full(300, "")
    )
    parts = splitting.split(extra_labels, codes(roles), CLASSES, 0.2, 0.2, seed=0)
    extra = np.flatnonzero(extra_labels >= 3)
    assert not set(extra) & (set(parts["val"]) | set(parts["test"]))
    expected_extra = extra[np.isin(roles[extra], ["train", ""])]
    np.testing.assert_array_equal(np.intersect1d(parts["train"], extra), expected_extra)
    if not with_parts:  # the predicted classes are split as they would be without the extras
        plain = splitting.split(labels(), NO_PARTS, CLASSES, 0.2, 0.2, seed=0)
        assert all(np.array_equal(plain[p], parts[p]) for p in ("val", "test"))
