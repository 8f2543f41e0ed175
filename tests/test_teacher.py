"""Distillation: a teacher model's probabilities on the training faces, over the student's
classes, mixed into the targets."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from emotions.errors import UserError
from emotions.saved.runtime import Predictor
from emotions.training import teacher
from emotions.training.fit import _targets
from tests.conftest import (
    TINY_SIZE,
    faces_of,
    make_dataset,
    prepare_source,
    tiny_model,
    tiny_training,
)


def test_the_teachers_answers_follow_the_students_classes(tmp_path: Path) -> None:
    """A teacher listing the same classes in another order: its columns are matched by name."""
    prepared = prepare_source(make_dataset(tmp_path / "raw"), size=TINY_SIZE).prepared
    folder = tiny_model(tmp_path / "teacher")
    rows = np.arange(len(prepared.labels))[::2]
    own = Predictor(folder).probabilities(faces_of(prepared, rows))
    meta = json.loads((folder / "meta.json").read_text())
    meta["classes"] = ["sad", "angry", "happy"]
    (folder / "meta.json").write_text(json.dumps(meta))
    taught = teacher.probabilities(folder, prepared, rows)
    np.testing.assert_allclose(taught, own[:, [1, 2, 0]], atol=1e-6)
    np.testing.assert_allclose(taught.sum(axis=1), 1, atol=1e-6)


def test_the_targets_mix_the_label_and_the_teacher(tmp_path: Path) -> None:
    prepared = prepare_source(make_dataset(tmp_path / "raw"), size=TINY_SIZE).prepared
    folder = tiny_model(tmp_path / "teacher")
    rows = np.arange(len(prepared.labels))
    train, val = rows[::2], rows[1::2]
    _, p, _ = tiny_training(**{"train.teacher": str(folder), "train.teacher_weight": 0.25})
    targets, val_targets, loss = _targets(prepared, train, val, p)
    taught = teacher.probabilities(folder, prepared, train)
    one_hot = np.eye(3)[prepared.labels[train]]
    np.testing.assert_allclose(targets, 0.75 * one_hot + 0.25 * taught, atol=1e-6)
    np.testing.assert_array_equal(val_targets, np.eye(3)[prepared.labels[val]])
    assert isinstance(loss, keras.losses.CategoricalCrossentropy)
    _, plain, _ = tiny_training()
    assert plain.teacher is None and _targets(prepared, train, val, plain)[0].ndim == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("size", r"train\.teacher: .* takes 16x16 gray faces, the prepared data holds 24x24 gray"),
        ("classes", r"train\.teacher: .* knows no class 'happy' \(its classes: angry, sad, calm\)"),
        ("missing", r"train\.teacher: .*nowhere"),
    ],
)
def test_a_teacher_that_does_not_fit_is_one_error_naming_the_param(
    tmp_path: Path, change: str, expected: str
) -> None:
    size = 24 if change == "size" else TINY_SIZE
    prepared = prepare_source(make_dataset(tmp_path / "raw"), size=size).prepared
    folder = tiny_model(tmp_path / "teacher")
    if change == "classes":
        meta = json.loads((folder / "meta.json").read_text())
        meta["classes"] = ["angry", "sad", "calm"]
        (folder / "meta.json").write_text(json.dumps(meta))
    if change == "missing":
        folder = tmp_path / "nowhere"
    with pytest.raises(UserError, match=expected):
        teacher.probabilities(folder, prepared, np.arange(4))
