"""Saved models averaged into one ONNX file: it answers the calibrated mean of its members, loads as
any model does, and members that do not agree are named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotions.data import store
from emotions.data.encoding import Encoding
from emotions.errors import UserError
from emotions.saved.calibration import fit_temperature, tempered
from emotions.saved.runtime import Predictor
from tests.conftest import CLASSES, TINY_SIZE, assert_one_error_line, prepared_from, tiny_model

ROOT = Path(__file__).resolve().parent.parent


def faces(count: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, TINY_SIZE, TINY_SIZE), np.uint8)


def test_the_ensemble_answers_the_calibrated_mean_of_its_members(tmp_path: Path) -> None:
    from emotions.saved.ensemble import write_ensemble

    members = [tiny_model(tmp_path / f"m{seed}", seed=seed) for seed in range(3)]
    held_out = faces(60)
    answers = [Predictor(m).probabilities(held_out / np.float32(255)) for m in members]
    mean = np.mean(answers, axis=0)
    # labels the ensemble gets mostly right, so that a temperature is fitted inside the range
    labels = np.where(np.arange(60) % 4 == 0, np.arange(60) % 3, mean.argmax(axis=1))
    encoding = Encoding(CLASSES, TINY_SIZE, face_detect=False)
    prepared = prepared_from(held_out, labels, encoding, tmp_path / "prepared")
    rows = np.arange(10, 60)
    accuracy = write_ensemble(members, prepared, rows, tmp_path / "ensemble")

    ensemble = Predictor(tmp_path / "ensemble")
    temperature = fit_temperature(mean[rows], labels[rows]).temperature
    assert ensemble.temperature == temperature != 1  # fitted on the held-out rows only
    assert ensemble.meta == Predictor(members[0]).meta
    np.testing.assert_allclose(
        ensemble.probabilities(held_out / np.float32(255)), tempered(mean, temperature), atol=1e-5
    )
    for member, answer in zip(members, answers, strict=True):
        assert accuracy[str(member)] == np.mean(answer[rows].argmax(axis=1) == labels[rows])
    assert accuracy["ensemble"] == np.mean(mean[rows].argmax(axis=1) == labels[rows])


def workspace_with_a_split(folder: Path) -> Path:
    """What the tool reads of a workspace: 30 prepared faces and their split."""
    encoding = Encoding(CLASSES, TINY_SIZE, face_detect=False)
    prepared_from(faces(30), np.arange(30) % 3, encoding, folder / "data" / "prepared")
    parts = {"train": np.arange(10), "val": np.arange(10, 20), "test": np.arange(20, 30)}
    np.savez(folder / "data" / "split.npz", **parts)
    return folder


def ensemble_tool(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "ensemble.py"), *map(str, args)],
        capture_output=True,
        text=True,
    )


def test_the_tool_reports_each_member_and_leaves_nothing_on_bad_input(tmp_path: Path) -> None:
    members = [tiny_model(tmp_path / f"m{seed}", seed=seed) for seed in range(2)]
    workspace = workspace_with_a_split(tmp_path / "workspace")
    out = tmp_path / "ensemble"
    done = ensemble_tool(out, *members, "--workspace", workspace)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.rpartition("(")[2] for line in lines] == [
        f"{members[0]}, 10 faces)",
        f"{members[1]}, 10 faces)",
        "ensemble, 10 faces)",
    ]
    assert json.loads((out / "meta.json").read_text())["classes"] == list(CLASSES)

    (members[1] / "model.onnx").write_bytes(b"not a model")
    broken = ensemble_tool(tmp_path / "broken", *members, "--workspace", workspace)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith(f"error: {members[1] / 'model.onnx'}: not a usable ONNX model")
    assert not (tmp_path / "broken").exists()

    alone = ensemble_tool(tmp_path / "alone", members[0], "--workspace", workspace)
    assert_one_error_line(alone, "an ensemble needs two models or more, got 1")
    assert not (tmp_path / "alone").exists()


def test_members_that_differ_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    from emotions.saved.ensemble import write_ensemble

    workspace = workspace_with_a_split(tmp_path / "workspace")
    prepared, rows = store.load(workspace / "data" / "prepared"), np.arange(10, 20)
    first = tiny_model(tmp_path / "first")
    other = tiny_model(tmp_path / "other", seed=1, classes=("angry", "happy", "neutral"))
    with pytest.raises(UserError) as raised:
        write_ensemble([first, other], prepared, rows, tmp_path / "out")
    assert str(raised.value).startswith(f"{other / 'meta.json'}: classes ('angry', 'happy', ")
    assert f"differs from {first / 'meta.json'}'s ('angry', 'happy', 'sad')" in str(raised.value)
    with pytest.raises(UserError, match="an ensemble needs two models or more, got 1"):
        write_ensemble([first], prepared, rows, tmp_path / "out")
    larger = Encoding(CLASSES, 2 * TINY_SIZE, face_detect=False)
    larger_faces = np.zeros((4, 2 * TINY_SIZE, 2 * TINY_SIZE), np.uint8)
    other_faces = prepared_from(larger_faces, np.arange(4) % 3, larger, tmp_path / "larger")
    second = tiny_model(tmp_path / "second", seed=2)
    with pytest.raises(
        UserError, match=f"{first}: the model takes 16x16 gray faces, the prepared "
    ):
        write_ensemble([first, second], other_faces, np.arange(4), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_ensemble_joining_others_weighs_as_its_networks(tmp_path: Path) -> None:
    from emotions.saved.ensemble import write_ensemble

    workspace = workspace_with_a_split(tmp_path / "workspace")
    prepared, rows = store.load(workspace / "data" / "prepared"), np.arange(10, 20)
    nets = [tiny_model(tmp_path / f"m{seed}", seed=seed) for seed in range(3)]
    pair = tmp_path / "pair"
    write_ensemble(nets[1:], prepared, rows, pair)
    nested = write_ensemble([nets[0], pair], prepared, rows, tmp_path / "nested")
    flat = write_ensemble(nets, prepared, rows, tmp_path / "flat")

    assert list(nested) == [
        str(nets[0]),
        f"{pair}, network 1 of 2",
        f"{pair}, network 2 of 2",
        "ensemble",
    ]
    assert list(nested.values()) == list(flat.values())
    images = faces(40, seed=7) / np.float32(255)
    nested_model, flat_model = Predictor(tmp_path / "nested"), Predictor(tmp_path / "flat")
    assert nested_model.temperature == flat_model.temperature
    np.testing.assert_allclose(
        nested_model.probabilities(images), flat_model.probabilities(images), atol=1e-6
    )
    mean = np.mean([Predictor(n).probabilities(images) for n in nets], axis=0)
    np.testing.assert_allclose(
        flat_model.probabilities(images), tempered(mean, flat_model.temperature), atol=1e-5
    )
