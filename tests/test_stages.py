"""The stage scripts as users run them: bad input gives one clear line, a non-zero exit, and keeps
old outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emotions.demo.faces import EXPRESSIONS
from tests.conftest import make_dataset, stage, with_params

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


def assert_user_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {message}"] or (len(lines) == 1 and message in lines[0]), (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_prepare_missing_source_folder(project_dir: Path) -> None:
    assert_user_error(
        stage("prepare", "--source", "data/raw"),
        "data/raw: raw data not found (set data.source in params.yaml)",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"prepare.image_size": 4},
            "prepare.image_size: must be an integer >= 8 and <= 224, got 4",
        ),
        ({"data.classes": ["sad", "sad"]}, "data.classes: duplicate class name 'sad'"),
        ({"prepare.on_bad_image": None}, "prepare.on_bad_image: missing key in params.yaml"),
    ],
)
def test_prepare_bad_params(project_dir: Path, change: dict, message: str) -> None:
    make_dataset(project_dir / "data" / "raw")
    with_params(project_dir, **change)
    assert_user_error(stage("prepare", "--source", "data/raw"), message)


def test_failed_prepare_keeps_previous_output(project_dir: Path) -> None:
    raw = make_dataset(project_dir / "data" / "raw")
    assert stage("prepare", "--source", "data/raw").returncode == 0
    before = {p.name: p.read_bytes() for p in (project_dir / "data" / "prepared").iterdir()}
    (raw / "sad" / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    with_params(project_dir, **{"prepare.on_bad_image": "error"})
    assert_user_error(
        stage("prepare", "--source", "data/raw"),
        "data/raw/sad/cut.jpg: truncated JPEG (prepare.on_bad_image is 'error')",
    )
    after = {p.name: p.read_bytes() for p in (project_dir / "data" / "prepared").iterdir()}
    assert after == before
    assert sorted(p.name for p in (project_dir / "data").iterdir()) == ["prepared", "raw"]


def test_prepare_skips_bad_files_and_warns(project_dir: Path) -> None:
    raw = make_dataset(project_dir / "data" / "raw")
    (raw / "happy" / "broken.png").write_bytes(b"junk")
    result = stage("prepare", "--source", "data/raw")
    assert result.returncode == 0, result.stderr
    assert (
        "warning: skipped data/raw/happy/broken.png: unreadable: not a readable image"
        in result.stderr
    )
    assert "1 skipped" in result.stdout


def test_split_fractions_summing_to_one(project_dir: Path) -> None:
    make_dataset(project_dir / "data" / "raw")
    assert stage("prepare", "--source", "data/raw").returncode == 0
    assert stage("split").returncode == 0
    before = (project_dir / "data" / "split.npz").read_bytes()
    with_params(project_dir, **{"split.val_fraction": 0.6, "split.test_fraction": 0.4})
    assert_user_error(
        stage("split"), "split.val_fraction + split.test_fraction: must sum to less than 1, got 1"
    )
    assert (project_dir / "data" / "split.npz").read_bytes() == before


def test_split_without_prepared_data(project_dir: Path) -> None:
    assert_user_error(stage("split"), "prepared data not found (run `dvc repro prepare` first)")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"train.epochs": 0}, "train.epochs: must be an integer >= 1, got 0"),
        ({"train.batch_size": 0}, "train.batch_size: must be an integer >= 1, got 0"),
        ({"train.seed": None}, "train.seed: missing key in params.yaml"),
        ({"train.calibrate": 3}, "train.calibrate: must be true or false, got 3"),
    ],
)
def test_train_bad_params(project_dir: Path, change: dict, message: str) -> None:
    with_params(project_dir, **change)
    assert_user_error(stage("train"), message)


def test_predict_without_a_model(project_dir: Path) -> None:
    assert_user_error(
        stage("predict", "x.png"),
        "models/meta.json: trained model not found (run `dvc repro` first)",
    )


def test_sample_draws_the_classes_it_can_and_names_the_others(project_dir: Path) -> None:
    """With data.source pointing at one's own data, data.classes may hold classes the generator
    cannot draw: the sample stage (part of every `dvc repro`) still succeeds, drawing the others."""
    with_params(
        project_dir,
        **{
            "data.classes": ["angry", "disgust"],
            "data.aliases": {},
            "data.extra_classes": ["Sad", "fear"],
        },
    )
    result = stage("sample", "--out", "data/sample")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: sample: the generator cannot draw 'disgust', 'fear' (it draws: "
        f"{', '.join(EXPRESSIONS)}), "
        "so the sample has no faces of them: point data.source at your own images"
    ]
    assert result.stdout == "sample: 24 faces in data/sample/faces, 1 unseen in data/sample/new\n"
    assert sorted(p.name for p in (project_dir / "data" / "sample" / "faces").iterdir()) == [
        "Sad",
        "angry",
    ]
    with_params(project_dir, **{"data.classes": ["disgust", "contempt"], "data.aliases": {}})
    nothing = stage("sample", "--out", "data/sample")
    assert nothing.returncode == 0 and list((project_dir / "data" / "sample").iterdir()) == []


def test_missing_params_file(project_dir: Path) -> None:
    (project_dir / "params.yaml").unlink()
    assert_user_error(
        stage("split"), "params.yaml: parameters file not found (run from the project root)"
    )


def test_mixed_precision_training_turns_onednn_on_and_repeats(project_dir: Path) -> None:
    """bfloat16 kernels on CPU come from oneDNN: forced mixed precision must switch it on (here
    against an inherited TF_ENABLE_ONEDNN_OPTS=0 and train.onednn auto), say so, and still
    repeat."""
    make_dataset(project_dir / "data" / "raw", per_class=8)
    with_params(
        project_dir,
        **{
            "model.architecture": "vgg",
            "train.epochs": 2,
            "train.augment": True,
            "train.precision": "mixed",
        },
    )
    assert (
        stage("prepare", "--source", "data/raw").returncode == 0 and stage("split").returncode == 0
    )
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "0"}
    runs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "stages.train"], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "oneDNN custom operations are on" in result.stderr
        assert "train: mixed bfloat16 on the CPU (train.precision; " in result.stdout
        assert "; oneDNN on (its kernels compute bfloat16)\n" in result.stdout
        runs.append(
            (
                (project_dir / "models" / "model.onnx").read_bytes(),
                (project_dir / "dvclive" / "train" / "metrics.json").read_text(),
            )
        )
    assert runs[0] == runs[1]


def test_onednn_can_be_turned_off(project_dir: Path) -> None:
    """train.onednn false keeps TensorFlow on its own kernels, even against an inherited switch."""
    make_dataset(project_dir / "data" / "raw", per_class=8)
    with_params(project_dir, **{"train.onednn": False})
    assert (
        stage("prepare", "--source", "data/raw").returncode == 0 and stage("split").returncode == 0
    )
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "stages.train"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "oneDNN custom operations are on" not in result.stderr
    assert "train: float32 (train.precision); oneDNN off (train.onednn)\n" in result.stdout


def test_evaluate_with_an_empty_set_name_writes_nothing(project_dir: Path) -> None:
    """`--set ""` names no set: it must not fall back to scoring the test part into reports/."""
    result = stage("evaluate", "--set", "", "--out-dir", "reports")
    assert_user_error(result, "--set: a set's name cannot be empty (the sets are: none)")
    assert not (project_dir / "reports").exists()
