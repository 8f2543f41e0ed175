"""The evaluate stage's reports: metrics.json, the text report, the tables DVC plots, and a Markdown
report with the confusion matrix, the most confident mistakes and the reliability diagram."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

from emotions.evaluation.figures import confusion_image, mistakes_grid, reliability_diagram
from emotions.evaluation.metrics import Evaluation
from emotions.files import csv_text, write_png, write_text
from emotions.saved import calibration
from emotions.saved.occlusion import Probabilities, occlusion_map

METRICS_FILE = "metrics.json"
REPORT_FILE = "classification_report.txt"
CONFUSION_FILE = "confusion.csv"
PER_CLASS_FILE = "per_class.csv"


MARKDOWN_FILE = "report.md"
CONFUSION_PNG = "confusion.png"
MISTAKES_PNG = "mistakes.png"
MISTAKES_EXPLAINED_PNG = "mistakes_explained.png"
MISTAKES_SHOWN = 24
CALIBRATION_FILES = {
    "before": "calibration_before.csv",
    "after": "calibration_after.csv",
}  # reliability diagram data
RELIABILITY_PNG = "reliability.png"


def _crowd_line(metrics: dict[str, object]) -> list[str]:
    crowd = metrics.get("crowd")
    if not isinstance(crowd, dict):
        return []
    return [
        f"Against the crowd's majority vote ({crowd['test_images']} faces with a vote for a class "
        "in use): "
        f"accuracy {crowd['accuracy']:.4f}, macro-F1 {crowd['macro_f1']:.4f}.",
        "",
    ]


def _calibration_section(scores: dict[str, float]) -> list[str]:
    temperature = scores["temperature"]
    how = (
        f"calibrated: its network's logits divided by a temperature of {temperature:g}, fitted on "
        "the validation part"
        if temperature != 1
        else "its network's own (`train.calibrate: false`, or no temperature fitted: see train's "
        "output), so before "
        "and after are the same"
    )
    return [
        "",
        "## Calibration",
        "",
        "Among the faces given a probability of 0.8, about 80% should be of that emotion. The "
        "model's probabilities "
        f"are {how}. On the test part:",
        "",
        "| probabilities | ECE | NLL | Brier |",
        "|---|---|---|---|",
        *(
            f"| {when} | {scores[f'ece_{when}']:.4f} | {scores[f'nll_{when}']:.4f} | "
            f"{scores[f'brier_{when}']:.4f} |"
            for when in ("before", "after")
        ),
        "",
        "ECE: expected calibration error, the gap between confidence and accuracy over "
        f"{calibration.BINS} equal-width "
        "bins of the top probability, weighted by their faces (0 is perfect). NLL: the mean "
        "negative log-likelihood of "
        "the true class. Brier: the mean squared distance to the one-hot truth, summed over "
        "classes (0 to 2).",
        "",
        f"![reliability diagram]({RELIABILITY_PNG})",
        "",
        "Blue: the share of the faces answered right in each confidence bin; red line: the bin's "
        "mean confidence, the gap "
        "shaded red; the diagonal: perfect calibration; grey: how many faces each bin holds.",
    ]


def _markdown(metrics: dict[str, object], evaluation: Evaluation, mistakes: int) -> str:
    per_class = metrics["per_class"]
    assert isinstance(per_class, dict)
    lines = [
        "# Evaluation on the held-out test set",
        "",
        f"{metrics['test_images']} test images: accuracy **{metrics['accuracy']:.4f}**, macro-F1 "
        f"**{metrics['macro_f1']:.4f}**.",
        "",
        *_crowd_line(metrics),
        "| class | precision | recall | F1 | images |",
        "|---|---|---|---|---|",
        *(
            f"| {n} | {v['precision']:.4f} | {v['recall']:.4f} | {v['f1']:.4f} | {v['support']} |"
            for n, v in per_class.items()
        ),
        f"| macro | {metrics['macro_precision']:.4f} | {metrics['macro_recall']:.4f} | "
        f"{metrics['macro_f1']:.4f} "
        f"| {metrics['test_images']} |",
        "",
        "## Confusion matrix",
        "",
        "Rows are the true classes, columns the predicted ones.",
        "",
        f"![confusion matrix]({CONFUSION_PNG})",
        "",
        "## Most confident mistakes",
        "",
    ]
    if mistakes:
        lines += [
            f"The {mistakes} wrong answers the model was surest of: the true label, then the "
            "prediction and its probability.",
            "",
            f"![most confident mistakes]({MISTAKES_PNG})",
            "",
            "What each of these answers rests on (occlusion sensitivity: the face hidden one "
            "patch at a time; red where "
            "hiding it lowered the predicted class's probability most):",
            "",
            f"![what the most confident mistakes rest on]({MISTAKES_EXPLAINED_PNG})",
        ]
    else:
        lines.append("None: every test image was classified correctly.")
    scores = metrics["calibration"]
    assert isinstance(scores, dict)
    lines += _calibration_section(scores)
    return "\n".join(lines) + "\n"


def _write_reliability(evaluation: Evaluation, out_dir: Path) -> None:
    """The reliability diagram's bins before and after calibration, as tables DVC plots and as a
    picture."""
    before = calibration.uncalibrated(evaluation.probabilities, evaluation.temperature)
    panels = []
    for when, probabilities in (("before", before), ("after", evaluation.probabilities)):
        bins = calibration.reliability(probabilities, evaluation.y_true)
        write_text(out_dir / CALIBRATION_FILES[when], csv_text(bins.COLUMNS, bins.rows()))
        named = when if when == "before" else f"after, temperature {evaluation.temperature:g}"
        panels.append(
            (
                f"{named}: ECE {bins.expected_calibration_error:.4f}",
                bins.count,
                bins.confidence,
                bins.accuracy,
            )
        )
    write_png(out_dir / RELIABILITY_PNG, reliability_diagram(panels))


def write_reports(
    evaluation: Evaluation,
    images_of: Callable[[np.ndarray], np.ndarray],
    out_dir: Path,
    model: Probabilities,
    votes: np.ndarray | None = None,
) -> dict[str, object]:
    """Write the metrics, the text report, the per-image, per-class and per-confidence-bin tables
    DVC plots draw, and a Markdown report with the confusion matrix, the most confident mistakes
    (these also with the heat maps of what the ``model``, that gave the probabilities, based them
    on) and the reliability diagram as pictures. ``images_of`` gives the model inputs of the
    faces it is asked for (positions in the evaluation): only the mistakes shown are read. With the
    crowd's ``votes`` (over the classes in use), the metrics also score against its majority."""
    metrics = evaluation.metrics()
    if votes is not None:
        metrics["crowd"] = evaluation.against_crowd(votes)
    metrics["calibration"] = evaluation.calibration()
    names = evaluation.classes
    write_text(out_dir / METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
    write_text(out_dir / REPORT_FILE, evaluation.text_report())
    write_text(
        out_dir / CONFUSION_FILE,
        csv_text(
            ["actual", "predicted"],
            [
                (names[t], names[p])
                for t, p in zip(evaluation.y_true, evaluation.y_pred, strict=True)
            ],
        ),
    )
    per_class = metrics["per_class"]
    assert isinstance(per_class, dict)
    write_text(
        out_dir / PER_CLASS_FILE,
        csv_text(
            ["class", "precision", "recall", "f1"],
            [(n, v["precision"], v["recall"], v["f1"]) for n, v in per_class.items()],
        ),
    )
    matrix = confusion_matrix(evaluation.y_true, evaluation.y_pred, labels=list(range(len(names))))
    write_png(out_dir / CONFUSION_PNG, confusion_image(matrix, names))
    wrong = np.flatnonzero(evaluation.y_pred != evaluation.y_true)
    confidence = evaluation.probabilities.max(axis=1)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISTAKES_SHOWN]
    captions = (
        [names[i] for i in evaluation.y_true[worst]],
        [names[i] for i in evaluation.y_pred[worst]],
        confidence[worst].tolist(),
    )
    shown = images_of(worst)
    write_png(out_dir / MISTAKES_PNG, mistakes_grid(shown, *captions))
    heat = np.array(
        [
            occlusion_map(model, face, int(evaluation.y_pred[i]))
            for face, i in zip(shown, worst, strict=True)
        ]
    )
    write_png(out_dir / MISTAKES_EXPLAINED_PNG, mistakes_grid(shown, *captions, heat=heat))
    _write_reliability(evaluation, out_dir)
    write_text(out_dir / MARKDOWN_FILE, _markdown(metrics, evaluation, len(worst)))
    return metrics
