"""The evaluate command on any labelled set (--data): scored as the model's inputs were, nothing
written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotions.prediction.classify import predict_images
from emotions.saved.runtime import Predictor
from tests.conftest import (
    make_dataset,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


def test_evaluate_scores_any_labelled_set_and_writes_nothing(
    model_dir: Path, project_dir: Path
) -> None:
    other = make_dataset(project_dir / "other", classes=("Angry", "happy", "sad"), per_class=4)
    before = sorted(p.relative_to(project_dir) for p in project_dir.rglob("*"))
    base = [
        sys.executable,
        "-m",
        "stages.evaluate",
        "--data",
        str(other),
        "--model-dir",
        str(model_dir),
    ]
    as_json_run = subprocess.run([*base, "--json"], capture_output=True, text=True)
    assert as_json_run.returncode == 0, as_json_run.stderr
    metrics = json.loads(as_json_run.stdout)
    files = sorted(other.rglob("*.png"))
    answers = predict_images(Predictor(model_dir), [(path, None) for path in files])
    right = [
        answer.label == path.parent.name.lower()
        for answer, path in zip(answers, files, strict=True)
    ]
    assert metrics["test_images"] == 12 and metrics["accuracy"] == round(float(np.mean(right)), 4)
    assert set(metrics["per_class"]["sad"]) == {"precision", "recall", "f1", "support"}
    text_run = subprocess.run(base, capture_output=True, text=True)
    assert text_run.returncode == 0 and "macro avg" in text_run.stdout
    assert sorted(
        p.relative_to(project_dir) for p in project_dir.rglob("*") if "__pycache__" not in p.parts
    ) == [p for p in before if "__pycache__" not in p.parts]


def test_evaluate_data_that_is_missing_is_named(model_dir: Path, project_dir: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.evaluate",
            "--data",
            "nowhere",
            "--model-dir",
            str(model_dir),
        ],
        capture_output=True,
        text=True,
    )
    assert (
        result.returncode == 2
        and result.stderr.strip()
        == "error: nowhere: no labelled data set there (--data takes class folders, a FER-2013 CSV "
        "or packed .tar files)"
    )
