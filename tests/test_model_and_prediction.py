"""The network, training, saving and predicting, on a tiny generated data set (one TensorFlow import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotions import bundle, dataset, params, splitting
from emotions.prediction import Predictor, as_csv, as_json, as_table, expand_inputs
from tests.conftest import TINY_PARAMS, make_dataset, shape_image, write_image

CLASSES = ("angry", "happy", "sad")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained for a few epochs on shapes that stand in for emotions."""
    from emotions.training import train

    root = tmp_path_factory.mktemp("trained")
    prepared, _ = dataset.prepare(make_dataset(root / "raw", per_class=12), CLASSES, 16, skip_bad=True)
    split = splitting.stratified_split(prepared.labels, CLASSES, 0.2, 0.2, seed=0)
    model_params = params.load(params.ModelParams, TINY_PARAMS)
    train_params = params.TrainParams(epochs=8, batch_size=8, learning_rate=0.01, seed=0)
    model = train(prepared, split, model_params, train_params, root / "live")
    bundle.save(model, bundle.ModelMeta(CLASSES, 16), root / "models")
    assert (root / "live" / "metrics.json").exists()  # dvclive logged the run
    return root / "models"


def test_reference_cnn_layout() -> None:
    from emotions.model import build_model

    model = build_model(48, 3, params.load(params.ModelParams, TINY_PARAMS))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert model.output_shape == (None, 3)


def test_training_logs_loss_and_accuracy_per_epoch(model_dir: Path) -> None:
    live = model_dir.parent / "live" / "plots" / "metrics"
    for split in ("train", "eval"):
        for metric in ("loss", "accuracy"):
            rows = (live / split / f"{metric}.tsv").read_text().strip().splitlines()
            assert len(rows) == 1 + 8, f"{split}/{metric}: one row per epoch"


def test_predictions_are_distributions_with_the_top_label(model_dir: Path, tmp_path: Path) -> None:
    paths = [write_image(tmp_path / f"{name}.png", shape_image(i, seed=99)) for i, name in enumerate(CLASSES)]
    predictions = Predictor(model_dir).predict(expand_inputs([str(p) for p in paths]))
    for p in predictions:
        assert p.error is None and p.probabilities is not None
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert p.label == max(p.probabilities, key=p.probabilities.get)
    assert [p.label for p in predictions] == list(CLASSES)  # the shapes are easy


def test_bad_items_are_reported_and_the_rest_predicted(model_dir: Path, tmp_path: Path) -> None:
    good = write_image(tmp_path / "in" / "good.png", shape_image(0))
    (tmp_path / "in" / "bad.jpg").write_bytes(b"\xff\xd8\xff cut")
    (tmp_path / "empty").mkdir()
    inputs = expand_inputs([str(tmp_path / "in"), str(tmp_path / "missing.png"), str(tmp_path / "empty")])
    predictions = Predictor(model_dir).predict(inputs)
    assert [(Path(p.path).name, p.error) for p in predictions] == [
        ("bad.jpg", "truncated JPEG"),
        ("good.png", None),
        ("missing.png", "no such file or folder"),
        ("empty", "folder has no images"),
    ]
    assert predictions[1].label is not None
    table = as_table(predictions, CLASSES)
    assert "error: truncated JPEG" in table and good.as_posix() in table
    csv_text = as_csv(predictions, CLASSES)
    assert csv_text.splitlines()[0] == "path,label,angry,happy,sad,error"
    assert json.loads(as_json(predictions))[0] == {"path": str(tmp_path / "in" / "bad.jpg"), "error": "truncated JPEG"}


def test_globs_expand_to_matching_files(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / f"f{i}.png", shape_image(0))
    found = expand_inputs([str(tmp_path / "f*.png"), str(tmp_path / "z*.png")])
    assert [p.name for p, _ in found] == ["f0.png", "f1.png", "f2.png", "z*.png"]
    assert found[-1][1] == "pattern matches no file"


def test_predict_command_json(model_dir: Path, tmp_path: Path) -> None:
    image = write_image(tmp_path / "face.png", shape_image(1, seed=5))
    result = subprocess.run(
        [sys.executable, "-m", "stages.predict", str(image), "--json", "--model-dir", str(model_dir)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert set(row) == {"path", "label", "probabilities"}
    assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)


def test_predict_command_fails_only_when_nothing_was_predicted(model_dir: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stages.predict", str(tmp_path / "none.png"), "--model-dir", str(model_dir)],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr and "Traceback" not in result.stderr


def test_same_seed_same_weights(tmp_path: Path, model_dir: Path) -> None:
    from emotions.training import train

    prepared, _ = dataset.prepare(make_dataset(tmp_path / "raw", per_class=12), CLASSES, 16, skip_bad=True)
    split = splitting.stratified_split(prepared.labels, CLASSES, 0.2, 0.2, seed=0)
    model_params = params.load(params.ModelParams, TINY_PARAMS)
    train_params = params.TrainParams(epochs=8, batch_size=8, learning_rate=0.01, seed=0)
    again = train(prepared, split, model_params, train_params, tmp_path / "live")
    first = bundle.load_keras(model_dir)
    for a, b in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
