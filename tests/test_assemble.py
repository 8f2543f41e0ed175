"""Building the saved model from a fitted network: calibration, its validation accuracy, and extra
classes trained but not predicted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from emotions.data import preparation, splitting
from emotions.saved import bundle
from emotions.training.keras_file import load_keras
from tests.conftest import (
    CLASSES,
    faces_of,
    make_dataset,
    prepare_params,
    prepare_source,
    spec,
    tiny_training,
    train_model,
)


def test_the_saved_model_is_scored_on_validation_as_it_answers(tmp_path: Path) -> None:
    """Its test-time views averaged (here ten crops of a network that reads 12-px crops of 16-px
    faces), not the one view of the last epoch's score."""
    from emotions.training.assemble import saved_model
    from emotions.training.networks import build_model

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=8)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.5, 0.2, seed=0)
    model_params, _, _ = tiny_training(**{"model.tta_crops": True})
    network = build_model(12, 1, len(CLASSES), model_params)
    saved = saved_model(network, prepared, split["val"], model_params, calibrate=False, crop=12)
    answers = saved.model.predict(faces_of(prepared, split["val"]), verbose=0).argmax(axis=1)
    assert saved.val_accuracy == np.mean(answers == prepared.labels[split["val"]])
    assert 0 < len(split["val"]) and saved.model.input_shape == (None, 16, 16, 1)
    calibrated = saved_model(network, prepared, split["val"], model_params, calibrate=True, crop=12)
    assert calibrated.val_accuracy == saved.val_accuracy  # a temperature keeps every answer


@pytest.mark.slow
def test_the_saved_model_s_validation_accuracy_joins_dvclive_s_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=12)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.3, 0.2, seed=0)
    training = tiny_training(**{"train.epochs": 2, "model.tta_flip": True, "model.tta_shift": 2})
    model = train_model(prepared, split, *training, tmp_path / "live")
    answers = model.predict(faces_of(prepared, split["val"]), verbose=0).argmax(axis=1)
    accuracy = float(np.mean(answers == prepared.labels[split["val"]]))
    summary = json.loads((tmp_path / "live" / "metrics.json").read_text())
    assert summary["saved_model"] == {"val_accuracy": float(f"{accuracy:.5g}")}
    assert summary["step"] == 1 and set(summary["eval"]) == {"accuracy", "loss"}  # dvclive's own
    assert (
        f"train: the saved model's validation accuracy, as exported: {accuracy:.4f} "
        "(saved_model.val_accuracy)"
    ) in capsys.readouterr().out


@pytest.mark.slow
def test_training_calibrates_unless_told_not_to(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnx

    from emotions.saved import runtime
    from emotions.training.assemble import calibrated
    from emotions.training.layers import Temperature, temperature_of

    saved = load_keras(model_dir)  # trained with train.calibrate true
    temperature = runtime.load(model_dir).temperature
    assert temperature_of(saved) == temperature
    props = {p.key: p.value for p in onnx.load(str(model_dir / bundle.ONNX_FILE)).metadata_props}
    assert float(props["temperature"]) == temperature

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=12)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    capsys.readouterr()
    plain = train_model(
        prepared, split, *tiny_training(**{"train.calibrate": False}), tmp_path / "live"
    )
    assert "temperature" not in capsys.readouterr().out
    assert temperature_of(plain) == 1.0 and not any(
        isinstance(layer, Temperature) for layer in plain.layers
    )
    for a, b in zip(saved.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the same network, only maybe without the temperature

    # a quarter of the faces relabelled: the network is surely wrong on those, so the fitted
    # temperature softens it
    faces = faces_of(prepared, split["train"])
    labels = (prepared.labels[split["train"]] + (np.arange(len(faces)) % 4 == 0)) % 3
    answers = plain.predict(faces, verbose=0)
    softened = calibrated(plain, answers, labels)
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(
        rf"train: temperature {temperature_of(softened):g} fitted on {len(faces)} validation "
        r"images "
        r"\(negative log-likelihood \d+\.\d{4} before, \d+\.\d{4} after\)",
        line,
    ), line
    assert temperature_of(softened) > 1
    # only faces it answers right: the sharper the likelier, past the end of the range: no
    # temperature
    right = answers.argmax(axis=1) == prepared.labels[split["train"]]
    assert calibrated(plain, answers[right], prepared.labels[split["train"]][right]) is plain
    line = capsys.readouterr().out.strip()
    assert line.startswith(
        f"train: no temperature fitted on {right.sum()} validation images: even at 0.25, the end"
    )
    assert line.endswith("there), so its probabilities are kept")


@pytest.mark.slow
def test_extra_classes_train_but_the_saved_model_predicts_the_kept_ones(tmp_path: Path) -> None:
    import keras

    from emotions.data.sources import read_source
    from emotions.training.export import largest_difference, to_onnx

    every = (*CLASSES, "fear", "neutral")
    root = make_dataset(tmp_path / "raw", classes=every, per_class=10)
    prepared = preparation.prepare(
        read_source(root, spec(every)),
        CLASSES,
        prepare_params(),
        tmp_path / "prepared",
        extra_classes=("fear", "neutral"),
    ).prepared
    assert prepared.classes == CLASSES and prepared.all_classes == every
    assert set(prepared.labels.tolist()) == {0, 1, 2, 3, 4}
    split = splitting.split(prepared.labels, prepared.roles, prepared.classes, 0.2, 0.2, seed=0)
    model = train_model(
        prepared,
        split,
        *tiny_training(**{"train.epochs": 2, "train.calibrate": False}),
        tmp_path / "live",
    )
    network = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    assert network.output_shape == (None, 5) and model.output_shape == (None, 3)
    images = faces_of(prepared, split["test"])
    all_outputs = network.predict(images, verbose=0)
    np.testing.assert_allclose(
        model.predict(images, verbose=0),
        all_outputs[:, :3] / all_outputs[:, :3].sum(axis=1, keepdims=True),
        rtol=1e-5,
    )
    to_onnx(model, tmp_path / "m.onnx")
    assert largest_difference(model, tmp_path / "m.onnx", faces_of(prepared, split["test"])) <= 1e-4
