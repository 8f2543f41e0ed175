"""train.distribute: mirrored over two logical CPU devices trains as one device does, with the same
global batch, and its export passes the ONNX check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emotions.training.devices import CPU_REPLICAS
from tests.conftest import make_dataset, stage, with_params

# trains in separate processes (the CPU is split before TensorFlow starts)
pytestmark = pytest.mark.slow

# Replicas sum the gradients in another order, so the last bits may differ; here the two runs'
# curves agree to dvclive's five digits.
ACCURACY_TOLERANCE = 0.02
LOSS_TOLERANCE = 1e-3  # relative
UNEVEN_TOLERANCE = 0.15  # a face of the 8 or 9 validated


def train(replicas: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = {**os.environ, CPU_REPLICAS: replicas}
    result = subprocess.run(
        [sys.executable, "-m", "stages.train"], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result, json.loads(Path("dvclive/train/metrics.json").read_text())


def trained_both_ways(project_dir: Path, per_class: int, batch: int = 8) -> tuple[dict, dict]:
    """dvclive's last epoch, trained on one device, then mirrored over two CPU devices."""
    make_dataset(project_dir / "data" / "raw", per_class=per_class)
    assert stage("prepare", "--source", "data/raw").returncode == 0
    assert stage("split").returncode == 0
    with_params(
        project_dir, **{"train.epochs": 8, "train.batch_size": batch, "train.distribute": "none"}
    )
    alone, one = train("2")  # "none" ignores the split CPU
    assert "mirrored" not in alone.stdout
    with_params(
        project_dir,
        **{"train.epochs": 8, "train.batch_size": batch, "train.distribute": "mirrored"},
    )
    mirrored, two = train("2")
    assert f"train: mirrored over 2 devices, {batch} faces a step in all" in mirrored.stdout
    assert "exported to models/model.onnx" in mirrored.stdout  # the export's check passed
    return one, two


def test_mirrored_over_two_cpu_devices_trains_as_one_device(project_dir: Path) -> None:
    """Batches that split evenly (36 faces: 20 train, 8 validation, batches of 8)."""
    one, two = trained_both_ways(project_dir, per_class=12)
    assert two["eval"]["accuracy"] == pytest.approx(one["eval"]["accuracy"], abs=ACCURACY_TOLERANCE)
    for part in ("train", "eval"):
        assert two[part]["loss"] == pytest.approx(one[part]["loss"], rel=LOSS_TOLERANCE)


def test_a_batch_that_does_not_split_evenly_loses_its_odd_face(project_dir: Path) -> None:
    """39 faces in batches of 16: an epoch's last training batch of 5 and the validation's one
    batch of 9 do not split between two replicas, which Keras refuses (a first batch that does not
    split fails); mirrored drops the odd face (1 of 21 training faces, 1 of 9 validation faces),
    and still learns what one device does."""
    one, two = trained_both_ways(project_dir, per_class=13, batch=16)
    assert two["eval"]["accuracy"] == pytest.approx(one["eval"]["accuracy"], abs=UNEVEN_TOLERANCE)


def test_a_bad_cpu_split_is_one_error_line(project_dir: Path) -> None:
    make_dataset(project_dir / "data" / "raw")
    assert stage("prepare", "--source", "data/raw").returncode == 0
    assert stage("split").returncode == 0
    with_params(project_dir, **{"train.distribute": "mirrored"})
    result = subprocess.run(
        [sys.executable, "-m", "stages.train"],
        capture_output=True,
        text=True,
        env={**os.environ, CPU_REPLICAS: "two"},
        timeout=600,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {CPU_REPLICAS}: expected a whole number of CPU devices >= 1, got 'two'"
    )
