from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions.evaluation import reports as evaluation_module
from emotions.evaluation.metrics import Evaluation
from emotions.evaluation.reports import (
    CALIBRATION_FILES,
    CONFUSION_FILE,
    CONFUSION_PNG,
    MARKDOWN_FILE,
    METRICS_FILE,
    MISTAKES_EXPLAINED_PNG,
    MISTAKES_PNG,
    PER_CLASS_FILE,
    RELIABILITY_PNG,
    REPORT_FILE,
    write_reports,
)
from emotions.saved.calibration import expected_calibration_error, reliability, tempered

CLASSES = ("angry", "happy", "sad")


def of(images: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """What write_reports asks for: the faces at given positions."""
    return lambda which: images[which]


def one_hot(predicted: list[int], confidence: float = 0.8) -> np.ndarray:
    probs = np.full((len(predicted), 3), (1 - confidence) / 2)
    probs[np.arange(len(predicted)), predicted] = confidence
    return probs


def uniform(images: np.ndarray) -> np.ndarray:
    """A stand-in model that looks at nothing: heat maps of it are flat."""
    return np.full((len(images), 3), 1 / 3, np.float32)


def example() -> Evaluation:
    # angry: 2 of 3 right; happy: 3 of 3; sad: 1 of 2, one sad called happy
    y_true = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    probs = one_hot([0, 0, 2, 1, 1, 1, 2, 1])
    probs[7] = [0.05, 0.9, 0.05]  # the surest mistake
    return Evaluation(CLASSES, y_true, probs)


def test_metrics_match_hand_computed_values() -> None:
    m = example().metrics()
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["per_class"]["happy"] == {
        "precision": 0.75,
        "recall": 1.0,
        "f1": pytest.approx(0.8571, abs=1e-4),
        "support": 3,
    }
    assert m["per_class"]["sad"]["precision"] == 0.5 and m["per_class"]["sad"]["recall"] == 0.5
    f1s = [m["per_class"][c]["f1"] for c in CLASSES]
    assert m["macro_f1"] == pytest.approx(sum(f1s) / 3, abs=1e-4)


def test_reports_are_written(tmp_path: Path) -> None:
    images = np.random.default_rng(0).random((8, 16, 16), dtype=np.float32)
    metrics = write_reports(example(), of(images), tmp_path, uniform)
    assert json.loads((tmp_path / METRICS_FILE).read_text()) == json.loads(json.dumps(metrics))
    report = (tmp_path / REPORT_FILE).read_text()
    assert all(name in report for name in CLASSES) and "macro avg" in report
    with (tmp_path / CONFUSION_FILE).open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and rows[-1] == {"actual": "sad", "predicted": "happy"}
    with (tmp_path / PER_CLASS_FILE).open() as f:
        assert [r["class"] for r in csv.DictReader(f)] == list(CLASSES)
    markdown = (tmp_path / MARKDOWN_FILE).read_text()
    assert (
        "accuracy **0.7500**" in markdown and "| happy | 0.7500 | 1.0000 | 0.8571 | 3 |" in markdown
    )
    assert f"![confusion matrix]({CONFUSION_PNG})" in markdown and "The 2 wrong answers" in markdown
    confusion = cv2.imread(str(tmp_path / CONFUSION_PNG))
    mistakes = cv2.imread(str(tmp_path / MISTAKES_PNG))
    assert confusion is not None and confusion.shape[0] > 200
    assert mistakes is not None and mistakes.shape[1] == 6 * 144


def test_most_confident_mistakes_come_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = {}

    def record(images, true, predicted, confidence, **_):
        shown.update(true=true, predicted=predicted, confidence=confidence)
        return np.zeros((10, 10, 3), np.uint8)

    monkeypatch.setattr(evaluation_module, "mistakes_grid", record)
    write_reports(example(), of(np.zeros((8, 16, 16), np.float32)), tmp_path, uniform)
    assert shown["true"] == ["sad", "angry"] and shown["predicted"] == ["happy", "sad"]
    assert shown["confidence"] == pytest.approx([0.9, 0.8])


def test_the_mistakes_are_shown_again_with_what_their_wrong_answers_rest_on(tmp_path: Path) -> None:
    def top_half(
        images: np.ndarray,
    ) -> np.ndarray:  # "happy" the brighter the top half, the rest shared
        happy = images[:, :8].mean(axis=(1, 2))
        return np.stack([(1 - happy) / 2, happy, (1 - happy) / 2], axis=1)

    images = np.zeros((8, 16, 16), np.float32)
    images[:, :8] = 1.0  # bright tops: hiding part of one lowers "happy" and raises the others
    write_reports(example(), of(images), tmp_path, top_half)
    assert (
        f"![what the most confident mistakes rest on]({MISTAKES_EXPLAINED_PNG})"
        in (tmp_path / MARKDOWN_FILE).read_text()
    )
    plain, explained = (
        cv2.imread(str(tmp_path / name)).astype(int)
        for name in (MISTAKES_PNG, MISTAKES_EXPLAINED_PNG)
    )
    assert explained.shape == plain.shape
    red, blue = explained[..., 2], explained[..., 0]
    # the surest mistake, sad called happy: its "happy" rests on the top half
    assert red[30, 72] > blue[30, 72] + 50 and blue[120, 72] > red[120, 72] + 50
    # the next, angry called sad: hiding the top only raises "sad", so nothing is hot
    assert (blue[4:140, 148:284] > red[4:140, 148:284]).all()


def test_a_class_never_predicted_scores_zero_without_warnings() -> None:
    evaluation = Evaluation(CLASSES, np.array([0, 1, 2]), one_hot([0, 1, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's UndefinedMetricWarning would fail the test
        metrics = evaluation.metrics()
        evaluation.text_report()
    assert metrics["per_class"]["sad"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_no_mistakes_draws_a_picture_that_says_so(tmp_path: Path) -> None:
    perfect = Evaluation(CLASSES, np.array([0, 1, 2]), one_hot([0, 1, 2]))
    write_reports(perfect, of(np.zeros((3, 16, 16), np.float32)), tmp_path, uniform)
    for name in (MISTAKES_PNG, MISTAKES_EXPLAINED_PNG):
        picture = cv2.imread(str(tmp_path / name))
        assert (
            picture is not None and picture.min() < 200
        )  # not a blank white picture: it has writing
    assert (
        "None: every test image was classified correctly." in (tmp_path / MARKDOWN_FILE).read_text()
    )


def test_scores_against_the_crowd_on_faces_it_voted_on(tmp_path: Path) -> None:
    probabilities = np.eye(3, dtype=np.float32)[[0, 1, 2, 2]]
    evaluation = Evaluation(("a", "b", "c"), np.array([0, 1, 2, 0]), probabilities)
    votes = np.array(
        [[1, 0, 0], [0, 3, 5], [0, 0, 2], [0, 0, 0]], np.float32
    )  # the last face: no vote, not scored
    crowd = evaluation.against_crowd(votes)
    assert (
        crowd["test_images"] == 3 and crowd["accuracy"] == 0.6667
    )  # rounded, as every written metric
    metrics = write_reports(
        evaluation, of(np.zeros((4, 8, 8), np.float32)), tmp_path, uniform, votes
    )
    assert metrics["crowd"] == crowd and metrics["accuracy"] == 0.75
    assert json.loads((tmp_path / "metrics.json").read_text())["crowd"] == crowd
    assert "Against the crowd's majority vote (3 faces" in (tmp_path / "report.md").read_text()


def test_calibration_is_reported_before_and_after_the_temperature(tmp_path: Path) -> None:
    """The network's own probabilities are recovered from the calibrated ones the model answers
    with, and both are scored: in the metrics, in tables per confidence bin, in the report and a
    picture."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3)) + 4.0 * np.eye(3)[labels] * (
        rng.random((300, 1)) < 0.7
    )  # 70% of faces learned
    network = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    model = tempered(network, 2.0)
    evaluation = Evaluation(CLASSES, labels, model, temperature=2.0)
    metrics = write_reports(evaluation, of(np.zeros((300, 8, 8), np.float32)), tmp_path, uniform)
    scores = json.loads((tmp_path / METRICS_FILE).read_text())["calibration"]
    assert scores == metrics["calibration"] and scores["temperature"] == 2.0
    assert scores["ece_before"] == round(expected_calibration_error(network, labels), 4)
    assert scores["ece_after"] == round(expected_calibration_error(model, labels), 4)
    for when, probabilities in (("before", network), ("after", model)):
        with (tmp_path / CALIBRATION_FILES[when]).open() as f:
            rows = list(csv.DictReader(f))
        bins = reliability(probabilities, labels)
        assert [int(r["bin"]) - 1 for r in rows] == np.flatnonzero(
            bins.count
        ).tolist()  # the filled bins only
        assert sum(int(r["count"]) for r in rows) == 300
        for r in rows:
            i = int(r["bin"]) - 1
            assert float(r["lower"]) == pytest.approx(i / 15, abs=1e-4)
            assert float(r["upper"]) == pytest.approx((i + 1) / 15, abs=1e-4)
            assert float(r["accuracy"]) == pytest.approx(bins.accuracy[i], abs=1e-4)
            assert float(r["confidence"]) == pytest.approx(bins.confidence[i], abs=1e-4)
    markdown = (tmp_path / MARKDOWN_FILE).read_text()
    assert "divided by a temperature of 2, fitted on the validation part" in markdown
    assert (
        f"| before | {scores['ece_before']:.4f} | {scores['nll_before']:.4f} | "
        f"{scores['brier_before']:.4f} |" in markdown
    )
    assert f"![reliability diagram]({RELIABILITY_PNG})" in markdown
    picture = cv2.imread(str(tmp_path / RELIABILITY_PNG))
    assert picture is not None and picture.shape[1] > picture.shape[0]  # two panels side by side


def test_a_model_not_calibrated_scores_the_same_before_and_after(tmp_path: Path) -> None:
    metrics = write_reports(example(), of(np.zeros((8, 16, 16), np.float32)), tmp_path, uniform)
    scores = metrics["calibration"]
    assert isinstance(scores, dict) and scores["temperature"] == 1.0
    assert [scores[f"{m}_before"] for m in ("ece", "nll", "brier")] == [
        scores[f"{m}_after"] for m in ("ece", "nll", "brier")
    ]
    assert scores["ece_after"] == round(
        expected_calibration_error(example().probabilities, example().y_true), 4
    )
    markdown = (tmp_path / MARKDOWN_FILE).read_text()
    assert "its network's own (`train.calibrate: false`, or no temperature fitted" in markdown
