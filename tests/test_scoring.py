"""Scoring a labelled set: read and preprocessed as the model's training data was, held-out parts
only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotions import params
from emotions.data.encoding import Encoding
from emotions.evaluation import scoring
from tests.conftest import CLASSES, TINY_PARAMS, make_dataset


@pytest.mark.parametrize(
    ("parts", "scored"),
    [(("train", "test"), 6), (("Training", "PublicTest", "PrivateTest"), 12), ((), 18)],
)
def test_a_labelled_set_scores_only_its_held_out_parts(
    tmp_path: Path, parts: tuple[str, ...], scored: int
) -> None:
    """A source with parts: what the model may have trained on is not scored; without parts, all."""
    root = tmp_path / "other"
    for part in parts or ("",):
        make_dataset(root / part, per_class=6 if part.lower() in ("train", "training", "") else 2)
    (tmp_path / "prepared").mkdir()
    faces, rows, labels = scoring.labelled_set(
        root,
        Encoding(CLASSES, 12, face_detect=False),
        params.load(params.DataParams, TINY_PARAMS),
        tmp_path / "prepared",
    )
    assert faces.read(rows).shape == (scored, 12, 12, 1)
    assert np.bincount(labels).tolist() == [scored // 3] * 3
