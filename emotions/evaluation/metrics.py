"""Scoring probabilities against true labels: accuracy, macro and per-class precision, recall and
F1, calibration, the text report, and the same against the crowd's majority."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, precision_recall_fscore_support

from emotions.data.votes import majority
from emotions.saved import calibration


@dataclass(frozen=True)
class Evaluation:
    classes: tuple[str, ...]
    y_true: np.ndarray
    probabilities: np.ndarray  # (N, classes)
    temperature: float = 1.0  # the one the probabilities were calibrated with; 1: not calibrated

    @property
    def y_pred(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def metrics(self) -> dict[str, object]:
        """Accuracy, macro and per-class precision/recall/F1: what `dvc metrics show` lists."""
        labels = list(range(len(self.classes)))
        precision, recall, f1, support = precision_recall_fscore_support(
            self.y_true, self.y_pred, labels=labels, zero_division=0
        )
        macro = precision_recall_fscore_support(
            self.y_true, self.y_pred, labels=labels, average="macro", zero_division=0
        )
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

    def calibration(self) -> dict[str, float]:
        """ECE, NLL and Brier score before and after the model's temperature."""
        return calibration.summary(self.probabilities, self.y_true, self.temperature)

    def against_crowd(self, votes: np.ndarray) -> dict[str, object]:
        """Accuracy and macro-F1 against the crowd's majority instead of the single label, on the
        faces with at least one vote for a class in use."""
        voted = votes.sum(axis=1) > 0
        crowd = Evaluation(
            self.classes, majority(votes[voted]), self.probabilities[voted]
        ).metrics()
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
