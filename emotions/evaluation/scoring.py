"""Scoring the trained model: on the prepared data's held-out test part (the evaluate stage), or on
any labelled data set (``--data``, and each extra set of ``evaluate.sets``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotions.data import preparation, splitting, store
from emotions.data.encoding import Encoding
from emotions.data.sources import SourceSpec, read_source
from emotions.errors import UserError
from emotions.evaluation.metrics import Evaluation
from emotions.evaluation.reports import write_reports
from emotions.files import write_text
from emotions.params import DataParams, PrepareParams
from emotions.saved.runtime import Predictor


@dataclass(frozen=True)
class Score:
    evaluation: Evaluation
    metrics: dict[str, object]
    seconds: float  # spent predicting

    def summary(self) -> str:
        """The lines the stage ends with: accuracy, macro-F1, speed, and the crowd's and
        calibration's scores if any."""
        images = len(self.evaluation.y_true)
        lines = [
            f"evaluate: accuracy {self.metrics['accuracy']:.4f}, macro-F1 "
            f"{self.metrics['macro_f1']:.4f} on {images} "
            f"test images ({images / self.seconds:.0f} images/s)"
        ]
        crowd = self.metrics.get("crowd")
        if isinstance(crowd, dict):
            lines.append(
                f"evaluate: against the crowd's majority: accuracy {crowd['accuracy']:.4f}, "
                f"macro-F1 {crowd['macro_f1']:.4f}"
            )
        scores = self.metrics.get("calibration")
        if isinstance(scores, dict):
            lines.append(
                f"evaluate: calibration (temperature {scores['temperature']:g}), before -> after: "
                f"ECE {scores['ece_before']:.4f} -> {scores['ece_after']:.4f}, "
                f"NLL {scores['nll_before']:.4f} -> {scores['nll_after']:.4f}, "
                f"Brier {scores['brier_before']:.4f} -> {scores['brier_after']:.4f}"
            )
        return "\n".join(lines)


def _evaluation(
    predictor: Predictor, images: np.ndarray, labels: np.ndarray
) -> tuple[Evaluation, float]:
    started = time.perf_counter()
    evaluation = Evaluation(
        predictor.meta.classes, labels, predictor.probabilities(images), predictor.temperature
    )
    return evaluation, time.perf_counter() - started


def score_test_part(model_dir: Path, prepared_dir: Path, split_path: Path, out_dir: Path) -> Score:
    """The evaluate stage: the test part of the prepared data, every report written into ``out_dir``
    (the mistakes explained by the model itself), with the crowd's scores where the data has
    votes."""
    predictor = Predictor(model_dir)
    prepared = store.load(prepared_dir)
    if predictor.meta.classes != prepared.classes:
        raise UserError(
            f"{model_dir}: model classes {predictor.meta.classes} differ from the data's "
            f"{prepared.classes}"
        )
    test = splitting.load(split_path)["test"]
    images = prepared.images[test]
    evaluation, seconds = _evaluation(predictor, images, prepared.labels[test])
    votes = None if prepared.votes is None else prepared.votes[test][:, : len(prepared.classes)]
    return Score(
        evaluation,
        write_reports(evaluation, images, out_dir, predictor.probabilities, votes),
        seconds,
    )


def as_trained(encoding: Encoding) -> PrepareParams:
    """How a labelled set is prepared for scoring: as the model's training data was (its size and
    face detection), every face kept (no hygiene: the set is scored as its owner labelled it), a
    file that cannot be used skipped."""
    return PrepareParams(
        image_size=encoding.image_size,
        on_bad_image="skip",
        min_std=0.0,
        dedupe=False,
        face_detect=encoding.face_detect,
    )


def labelled_set(path: Path, encoding: Encoding, data: DataParams) -> tuple[np.ndarray, np.ndarray]:
    """Any labelled data set (folder tree or FER-2013 CSV, its labels mapped by ``data.aliases`` and
    ``data.csv_emotions``), preprocessed as the model's training data was. Of a source with parts
    only the held-out ones count (the model may have trained on its training part); a source without
    parts is scored whole."""
    spec = SourceSpec(encoding.classes, data.aliases, data.csv_emotions, "auto")
    prepared = preparation.prepare(
        read_source(path, spec), encoding.classes, as_trained(encoding)
    ).prepared
    held_out = prepared.parts != "train"
    return prepared.images[held_out], prepared.labels[held_out]


def score_labelled_set(
    model_dir: Path, path: Path, data: DataParams, metrics_file: Path | None = None
) -> Score:
    """The model scored on the labelled set at ``path``; its metrics written to ``metrics_file``
    where given (an extra set of the pipeline), else nothing written."""
    predictor = Predictor(model_dir)
    evaluation, seconds = _evaluation(predictor, *labelled_set(path, predictor.meta, data))
    metrics = evaluation.metrics()
    if metrics_file is not None:
        write_text(metrics_file, json.dumps(metrics, indent=2) + "\n")
    return Score(evaluation, metrics, seconds)
