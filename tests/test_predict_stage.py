"""The predict command: JSON, exit codes, and no heavy import on its path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emotions.prediction.classify import predict_images
from emotions.saved.runtime import Predictor
from tests.conftest import (
    ROOT,
    shape_image,
    write_image,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


def test_predict_path_imports_no_tensorflow_sklearn_or_dvc() -> None:
    heavy = "('tensorflow', 'keras', 'sklearn', 'dvc', 'dvclive')"
    code = f"import sys, stages.predict; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_predict_command_json(model_dir: Path, tmp_path: Path) -> None:
    image = write_image(tmp_path / "face.png", shape_image(1, seed=5))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.predict",
            str(image),
            "--json",
            "--model-dir",
            str(model_dir),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    [expected] = predict_images(Predictor(model_dir), [(image, None)])
    assert json.loads(result.stdout) == [
        {"path": str(image), "label": expected.label, "probabilities": expected.probabilities}
    ]


def test_predict_command_fails_only_when_nothing_was_predicted(
    model_dir: Path, tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.predict",
            str(tmp_path / "none.png"),
            "--model-dir",
            str(model_dir),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr and "Traceback" not in result.stderr
