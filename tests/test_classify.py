"""Classifying images with a saved model: answers in class order, failures reported, globs, links,
faces in photos and odd sizes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions.data.encoding import Encoding
from emotions.prediction.classify import predict_all, predict_images
from emotions.prediction.formats import as_csv, as_json, as_table
from emotions.prediction.inputs import expand_inputs
from emotions.saved.runtime import Predictor
from emotions.training.keras_file import load_keras
from tests.conftest import (
    CLASSES,
    drawn_face,
    shape_image,
    write_image,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


def test_predictions_are_the_trained_networks_answers_in_class_order(
    model_dir: Path, tmp_path: Path
) -> None:
    """What predict reports for an image file is what the Keras network answers on the image
    preprocessed as prepare does, each probability under its class's name."""
    from emotions.data.imaging import preprocess, read_image

    paths = [
        write_image(tmp_path / f"{name}.png", shape_image(i, seed=99))
        for i, name in enumerate(CLASSES)
    ]
    predictions = predict_images(Predictor(model_dir), expand_inputs([str(p) for p in paths]))
    network = load_keras(model_dir).predict(
        np.stack([preprocess(read_image(p), 16) for p in paths])[..., None], verbose=0
    )
    for p, answer in zip(predictions, network, strict=True):
        assert p.probabilities is not None
        np.testing.assert_allclose([p.probabilities[c] for c in CLASSES], answer, atol=1e-4)
        assert p.label == CLASSES[int(np.argmax(answer))]
    assert [p.label for p in predictions] == list(CLASSES)  # the shapes are easy


def test_bad_items_are_reported_and_the_rest_predicted(model_dir: Path, tmp_path: Path) -> None:
    good = write_image(tmp_path / "in" / "good.png", shape_image(0))
    (tmp_path / "in" / "bad.jpg").write_bytes(b"\xff\xd8\xff cut")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    inputs = expand_inputs(
        [
            str(tmp_path / "in"),
            str(tmp_path / "missing.png"),
            str(tmp_path / "empty"),
            str(tmp_path / "notes.txt"),
        ]
    )
    predictions = predict_images(Predictor(model_dir), inputs)
    assert [(Path(p.path).name, p.error) for p in predictions] == [
        ("bad.jpg", "truncated JPEG"),
        ("good.png", None),
        ("missing.png", "no such file or folder"),
        ("empty", "folder has no images or videos"),
        ("notes.txt", "not a readable image"),
    ]
    assert predictions[1].label is not None
    table = as_table(predictions, CLASSES)
    assert "error: truncated JPEG" in table and good.as_posix() in table
    csv_text = as_csv(predictions, CLASSES)
    assert csv_text.splitlines()[0] == "path,label,angry,happy,sad,box,error"
    assert json.loads(as_json(predictions))[0] == {
        "path": str(tmp_path / "in" / "bad.jpg"),
        "error": "truncated JPEG",
    }


def test_globs_expand_to_matching_files(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / f"f{i}.png", shape_image(0))
    found = expand_inputs([str(tmp_path / "f*.png"), str(tmp_path / "z*.png")])
    assert [p.name for p, _ in found] == ["f0.png", "f1.png", "f2.png", "z*.png"]
    assert found[-1][1] == "pattern matches no file"


def test_broken_links_are_reported_not_skipped(model_dir: Path, tmp_path: Path) -> None:
    """In a folder, matched by a pattern or given by name, a link to nothing is one error row, image
    or video."""
    write_image(tmp_path / "in" / "good.png", shape_image(0))
    (tmp_path / "in" / "gone.png").symlink_to(tmp_path / "deleted.png")
    (tmp_path / "in" / "gone.mp4").symlink_to(tmp_path / "deleted.mp4")
    (tmp_path / "direct.jpg").symlink_to("nowhere.jpg")
    inputs = expand_inputs(
        [str(tmp_path / "in"), str(tmp_path / "in" / "g*.png"), str(tmp_path / "direct.jpg")]
    )
    assert [(p.name, error) for p, error in inputs] == [
        ("gone.mp4", f"broken link (to {tmp_path / 'deleted.mp4'})"),
        ("gone.png", f"broken link (to {tmp_path / 'deleted.png'})"),
        ("good.png", None),
        ("gone.png", f"broken link (to {tmp_path / 'deleted.png'})"),
        ("good.png", None),
        ("direct.jpg", "broken link (to nowhere.jpg)"),
    ]

    rows = predict_all(Predictor(model_dir), inputs)
    assert [(Path(r.path).name, r.error) for r in rows] == [(p.name, error) for p, error in inputs]


@pytest.fixture
def face_model_dir(model_dir: Path, tmp_path: Path) -> Path:
    """The tiny model, marked as trained on face crops: predict must then detect faces too."""
    target = tmp_path / "face_model"
    shutil.copytree(model_dir, target)
    meta = json.loads((target / "meta.json").read_text())
    (target / "meta.json").write_text(json.dumps({**meta, "face_detect": True}))
    return target


def test_every_face_in_a_photo_gets_a_box_and_an_annotated_copy(
    face_model_dir: Path, tmp_path: Path
) -> None:
    two = np.concatenate([drawn_face(), drawn_face()], axis=1)  # two faces side by side
    photo = write_image(tmp_path / "photos" / "two.png", cv2.cvtColor(two, cv2.COLOR_GRAY2BGR))
    empty = write_image(tmp_path / "photos" / "wall.png", np.full((120, 160), 90, np.uint8))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.predict",
            str(tmp_path / "photos"),
            "--json",
            "--model-dir",
            str(face_model_dir),
            "--annotate",
            str(tmp_path / "annotated"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    faces = [r for r in rows if r["path"] == str(photo)]
    assert len(faces) == 2 and all(len(r["box"]) == 4 and r["label"] in CLASSES for r in faces)
    assert sorted(r["box"][0] + r["box"][2] / 2 < 200 for r in faces) == [
        False,
        True,
    ]  # one face in each half
    assert [r for r in rows if r["path"] == str(empty)] == [
        {"path": str(empty), "error": "no face found"}
    ]
    annotated = cv2.imread(str(tmp_path / "annotated" / "two.png"))
    assert (
        annotated.shape[0] > 200 and annotated.shape[1] >= 400
    )  # the photo with margins for the labels
    assert not (tmp_path / "annotated" / "wall.png").exists()


def test_huge_and_tiny_images(model_dir: Path, tmp_path: Path) -> None:
    huge = write_image(tmp_path / "huge.png", np.zeros((10000, 10000), np.uint8))
    tiny = write_image(tmp_path / "tiny.png", np.zeros((1, 1), np.uint8))
    predictions = predict_images(Predictor(model_dir), expand_inputs([str(huge), str(tiny)]))
    assert predictions[0].label is not None
    assert predictions[1].error == "too small (1x1 pixels)"


def test_faces_are_classified_a_batch_at_a_time_in_input_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory holds one batch of faces, however many images: predict on 50,000 files must not keep
    50,000 faces."""
    from emotions.prediction import classify

    class Counting:
        meta = Encoding(CLASSES, 16, face_detect=False)
        batches: list[int] = []

        def probabilities(self, images: np.ndarray) -> np.ndarray:
            self.batches.append(len(images))
            bright = images.reshape(len(images), -1).mean(axis=1)
            return np.stack([bright, 1 - bright, np.zeros_like(bright)], axis=1)

    paths = [
        write_image(tmp_path / f"{i:02d}.png", np.full((8, 8), 10 * i, np.uint8)) for i in range(25)
    ]
    inputs = [(p, None) for p in paths]
    inputs.insert(7, (tmp_path / "gone.png", "no such file or folder"))
    monkeypatch.setattr(classify, "BATCH_SIZE", 4)
    model = Counting()
    results = predict_images(model, inputs)  # type: ignore[arg-type]
    assert max(model.batches) <= 4 and sum(model.batches) == 25
    assert [Path(r.path).name for r in results] == [p.name for p, _ in inputs]
    assert results[7].error == "no such file or folder"
    brightness = [r.probabilities["angry"] for r in results if r.probabilities]
    np.testing.assert_allclose(brightness, [10 * i / 255 for i in range(25)], atol=1e-6)
