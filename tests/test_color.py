"""Colour carried end to end: faces whose class lies in their colour alone (three tints of the same
brightness) are learned by an `rgb` run and not by a `gray` one from the same files, and the colour
model's export, scores and predictions keep its three channels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from emotions.data import preparation, splitting
from emotions.data.sources import read_source
from emotions.demo.faces import EXPRESSIONS, draw_face, tinted
from emotions.evaluation.scoring import score_test_part
from emotions.prediction.classify import predict_images
from emotions.saved import bundle
from emotions.saved.runtime import Predictor
from tests.conftest import CLASSES, faces_of, prepare_params, spec, tiny_training, train_model

pytestmark = pytest.mark.slow  # trains two networks

# Three tints with one brightness (0.299 R + 0.587 G + 0.114 B = 0.62): in gray they are the same.
TINTS = {"angry": (0.9, 0.5, 0.5), "happy": (0.3632, 0.8, 0.3632), "sad": (0.5771, 0.5771, 0.95)}
SIZE = 16


def tinted_faces(root: Path, per_class: int = 30) -> Path:
    """Faces of every expression, each class in its own tint: only colour tells them apart."""
    rng = np.random.default_rng(0)
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            face = tinted(draw_face(EXPRESSIONS[i % len(EXPRESSIONS)], rng, 32), TINTS[name])
            assert cv2.imwrite(str(root / name / f"{i}.png"), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
    return root


def run(raw: Path, out: Path, color: str) -> tuple[float, Path, Path]:
    """Prepare, split, train and export as the stages do; the test accuracy, prepared folder and
    model folder."""
    from emotions.training.export import save_checked

    p = prepare_params(SIZE, color=color)
    prepared = preparation.prepare(
        read_source(raw, spec(color=color)), CLASSES, p, out / "prepared"
    ).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    splitting.save(split, out / "split.npz")
    options = tiny_training(**{"train.epochs": 12})
    model = train_model(prepared, split, *options, out / "live")
    save_checked(model, prepared.encoding, out / "models", faces_of(prepared, split["val"]))
    answers = model.predict(faces_of(prepared, split["test"]), verbose=0).argmax(axis=1)
    return (
        float((answers == prepared.labels[split["test"]]).mean()),
        out / "prepared",
        out / "models",
    )


def test_colour_is_learned_only_in_colour(tmp_path: Path) -> None:
    raw = tinted_faces(tmp_path / "raw")
    gray_accuracy, _, _ = run(raw, tmp_path / "gray", "gray")
    rgb_accuracy, prepared, models = run(raw, tmp_path / "rgb", "rgb")
    assert rgb_accuracy >= 0.9 and gray_accuracy <= 0.67, (rgb_accuracy, gray_accuracy)

    assert np.load(prepared / "faces-00000.npy").shape[1:] == (SIZE, SIZE, 3)
    meta = json.loads((models / bundle.META_FILE).read_text())
    assert meta["color"] == "rgb"
    props = {p.key: p.value for p in onnx.load(str(models / bundle.ONNX_FILE)).metadata_props}
    assert props["color"] == "rgb" and props["channels"] == "3"
    assert f"(N, {SIZE}, {SIZE}, 3)" in props["input"] and "RGB" in props["input"]

    score = score_test_part(models, prepared, tmp_path / "rgb" / "split.npz", tmp_path / "reports")
    assert score.metrics["accuracy"] == pytest.approx(rgb_accuracy, abs=0.1)
    assert (tmp_path / "reports" / "mistakes_explained.png").stat().st_size > 0

    predictor = Predictor(models)
    files = [raw / name / "0.png" for name in CLASSES]
    labels = [p.label for p in predict_images(predictor, [(f, None) for f in files])]
    assert labels == list(CLASSES)
