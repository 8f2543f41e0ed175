"""Scoring predictions against true labels: metrics, the text report and the confusion-matrix plot data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, precision_recall_fscore_support

from emotions.data.votes import majority
from emotions.files import csv_text, write_png, write_text
from emotions.inference.explain import Probabilities, occlusion_map
from emotions.inference.figures import confusion_image, mistakes_grid

METRICS_FILE = "metrics.json"
REPORT_FILE = "classification_report.txt"
CONFUSION_FILE = "confusion.csv"
PER_CLASS_FILE = "per_class.csv"


MARKDOWN_FILE = "report.md"
CONFUSION_PNG = "confusion.png"
MISTAKES_PNG = "mistakes.png"
MISTAKES_EXPLAINED_PNG = "mistakes_explained.png"
MISTAKES_SHOWN = 24


@dataclass(frozen=True)
class Evaluation:
    classes: tuple[str, ...]
    y_true: np.ndarray
    probabilities: np.ndarray  # (N, classes)

    @property
    def y_pred(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def metrics(self) -> dict[str, object]:
        """Accuracy, macro and per-class precision/recall/F1: what `dvc metrics show` lists."""
        labels = list(range(len(self.classes)))
        precision, recall, f1, support = precision_recall_fscore_support(self.y_true, self.y_pred, labels=labels, zero_division=0)
        macro = precision_recall_fscore_support(self.y_true, self.y_pred, labels=labels, average="macro", zero_division=0)
        return {
            "accuracy": round(float(accuracy_score(self.y_true, self.y_pred)), 4),
            "macro_precision": round(float(macro[0]), 4),
            "macro_recall": round(float(macro[1]), 4),
            "macro_f1": round(float(macro[2]), 4),
            "test_images": int(len(self.y_true)),
            "per_class": {
                name: {
                    "precision": round(float(precision[i]), 4),
                    "recall": round(float(recall[i]), 4),
                    "f1": round(float(f1[i]), 4),
                    "support": int(support[i]),
                }
                for i, name in enumerate(self.classes)
            },
        }

    def against_crowd(self, votes: np.ndarray) -> dict[str, object]:
        """Accuracy and macro-F1 against the crowd's majority instead of the single label, on the
        faces with at least one vote for a class in use."""
        voted = votes.sum(axis=1) > 0
        crowd = Evaluation(self.classes, majority(votes[voted]), self.probabilities[voted]).metrics()
        return {key: crowd[key] for key in ("accuracy", "macro_f1", "test_images")}

    def text_report(self) -> str:
        return classification_report(
            self.y_true,
            self.y_pred,
            labels=list(range(len(self.classes))),
            target_names=list(self.classes),
            digits=4,
            zero_division=0,
        )


def _crowd_line(metrics: dict[str, object]) -> list[str]:
    crowd = metrics.get("crowd")
    if not isinstance(crowd, dict):
        return []
    return [
        f"Against the crowd's majority vote ({crowd['test_images']} faces with a vote for a class in use): "
        f"accuracy {crowd['accuracy']:.4f}, macro-F1 {crowd['macro_f1']:.4f}.",
        "",
    ]


def _markdown(metrics: dict[str, object], evaluation: Evaluation, mistakes: int) -> str:
    per_class = metrics["per_class"]
    assert isinstance(per_class, dict)
    lines = [
        "# Evaluation on the held-out test set",
        "",
        f"{metrics['test_images']} test images: accuracy **{metrics['accuracy']:.4f}**, macro-F1 **{metrics['macro_f1']:.4f}**.",
        "",
        *_crowd_line(metrics),
        "| class | precision | recall | F1 | images |",
        "|---|---|---|---|---|",
        *(f"| {n} | {v['precision']:.4f} | {v['recall']:.4f} | {v['f1']:.4f} | {v['support']} |" for n, v in per_class.items()),
        f"| macro | {metrics['macro_precision']:.4f} | {metrics['macro_recall']:.4f} | {metrics['macro_f1']:.4f} "
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
            f"The {mistakes} wrong answers the model was surest of: the true label, then the prediction and its probability.",
            "",
            f"![most confident mistakes]({MISTAKES_PNG})",
            "",
            "What each of these answers rests on (occlusion sensitivity: the face hidden one patch at a time; red where "
            "hiding it lowered the predicted class's probability most):",
            "",
            f"![what the most confident mistakes rest on]({MISTAKES_EXPLAINED_PNG})",
        ]
    else:
        lines.append("None: every test image was classified correctly.")
    return "\n".join(lines) + "\n"


def write_reports(
    evaluation: Evaluation, images: np.ndarray, out_dir: Path, model: Probabilities, votes: np.ndarray | None = None
) -> dict[str, object]:
    """Write the metrics, the text report, the per-image and per-class tables DVC plots draw, and a
    Markdown report with the confusion matrix and the most confident mistakes as pictures, these
    also with the heat maps of what the ``model`` (that gave the probabilities) based them on. With
    the crowd's ``votes`` (over the classes in use), the metrics also score against its majority."""
    metrics = evaluation.metrics()
    if votes is not None:
        metrics["crowd"] = evaluation.against_crowd(votes)
    names = evaluation.classes
    write_text(out_dir / METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
    write_text(out_dir / REPORT_FILE, evaluation.text_report())
    write_text(
        out_dir / CONFUSION_FILE,
        csv_text(
            ["actual", "predicted"], [(names[t], names[p]) for t, p in zip(evaluation.y_true, evaluation.y_pred, strict=True)]
        ),
    )
    per_class = metrics["per_class"]
    assert isinstance(per_class, dict)
    write_text(
        out_dir / PER_CLASS_FILE,
        csv_text(
            ["class", "precision", "recall", "f1"], [(n, v["precision"], v["recall"], v["f1"]) for n, v in per_class.items()]
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
    write_png(out_dir / MISTAKES_PNG, mistakes_grid(images[worst], *captions))
    heat = np.array([occlusion_map(model, images[i], int(evaluation.y_pred[i])) for i in worst])
    write_png(out_dir / MISTAKES_EXPLAINED_PNG, mistakes_grid(images[worst], *captions, heat=heat))
    write_text(out_dir / MARKDOWN_FILE, _markdown(metrics, evaluation, len(worst)))
    return metrics
