from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from emotions.evaluation import CONFUSION_FILE, METRICS_FILE, PER_CLASS_FILE, REPORT_FILE, Evaluation, write_reports

CLASSES = ("angry", "happy", "sad")


def example() -> Evaluation:
    # angry: 2 of 3 right; happy: 3 of 3; sad: 1 of 2, one sad called happy
    y_true = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 2, 1, 1, 1, 2, 1])
    return Evaluation(CLASSES, y_true, y_pred)


def test_metrics_match_hand_computed_values() -> None:
    m = example().metrics()
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["per_class"]["happy"] == {"precision": 0.75, "recall": 1.0, "f1": pytest.approx(0.8571, abs=1e-4), "support": 3}
    assert m["per_class"]["sad"]["precision"] == 0.5 and m["per_class"]["sad"]["recall"] == 0.5
    f1s = [m["per_class"][c]["f1"] for c in CLASSES]
    assert m["macro_f1"] == pytest.approx(sum(f1s) / 3, abs=1e-4)


def test_reports_are_written(tmp_path: Path) -> None:
    metrics = write_reports(example(), tmp_path)
    assert json.loads((tmp_path / METRICS_FILE).read_text()) == json.loads(json.dumps(metrics))
    report = (tmp_path / REPORT_FILE).read_text()
    assert all(name in report for name in CLASSES) and "macro avg" in report
    with (tmp_path / CONFUSION_FILE).open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and rows[-1] == {"actual": "sad", "predicted": "happy"}
    with (tmp_path / PER_CLASS_FILE).open() as f:
        assert [r["class"] for r in csv.DictReader(f)] == list(CLASSES)


def test_a_class_never_predicted_scores_zero_without_warnings() -> None:
    evaluation = Evaluation(CLASSES, np.array([0, 1, 2]), np.array([0, 1, 1]))
    assert evaluation.metrics()["per_class"]["sad"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
