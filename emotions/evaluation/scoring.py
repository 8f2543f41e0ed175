"""Scoring the trained model: on the prepared data's held-out test part (the evaluate stage), or on
any labelled data set (``--data``, and each extra set of ``evaluate.sets``)."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotions import params
from emotions.data import hygiene, preparation, splitting, store
from emotions.data.encoding import Encoding
from emotions.data.imaging import to_input
from emotions.data.sources import SourceSpec, read_source
from emotions.data.store import Faces
from emotions.errors import UserError
from emotions.evaluation.metrics import Evaluation
from emotions.evaluation.reports import write_reports
from emotions.files import write_text
from emotions.params import DataParams, PrepareParams
from emotions.saved import bundle
from emotions.saved.runtime import Predictor

# a labelled set prepared for scoring is sharded as prepare's default says
SHARD_MB = params.defaults(PrepareParams)["shard_mb"]


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
    predictor: Predictor, faces: Faces, rows: np.ndarray, labels: np.ndarray
) -> tuple[Evaluation, float]:
    """The model's answers on the faces ``rows``, read from their shards a batch at a time."""
    started = time.perf_counter()
    probabilities = predictor.stored(faces, rows)
    evaluation = Evaluation(predictor.meta.classes, labels, probabilities, predictor.temperature)
    return evaluation, time.perf_counter() - started


def score_test_part(model_dir: Path, prepared_dir: Path, split_path: Path, out_dir: Path) -> Score:
    """The evaluate stage: the test part of the prepared data, every report written into ``out_dir``
    (the mistakes explained by the model itself), with the crowd's scores where the data has
    votes."""
    predictor = Predictor(model_dir)
    prepared = store.load(prepared_dir)
    bundle.check_inputs(model_dir, predictor.meta, prepared.encoding, " (run `dvc repro`)")
    test = splitting.load(split_path)["test"]
    evaluation, seconds = _evaluation(predictor, prepared.faces, test, prepared.labels[test])
    votes = None if prepared.votes is None else prepared.votes[test][:, : len(prepared.classes)]

    def images_of(which: np.ndarray) -> np.ndarray:
        return to_input(prepared.faces.read(test[which]))

    metrics = write_reports(evaluation, images_of, out_dir, predictor.probabilities, votes)
    return Score(evaluation, metrics, seconds)


def as_trained(encoding: Encoding) -> PrepareParams:
    """How a labelled set is prepared for scoring: as the model's training data was (its size and
    face detection), every face kept (no hygiene: the set is scored as its owner labelled it), a
    file that cannot be used skipped."""
    return PrepareParams(
        image_size=encoding.image_size,
        color=encoding.color,
        on_bad_image="skip",
        min_std=0.0,
        dedupe=False,
        face_detect=encoding.face_detect,
        shard_mb=SHARD_MB,
    )


def labelled_set(
    path: Path, encoding: Encoding, data: DataParams, folder: Path
) -> tuple[Faces, np.ndarray, np.ndarray]:
    """Any labelled data set (folder tree or FER-2013 CSV, its labels mapped by ``data.aliases`` and
    ``data.csv_emotions``), prepared into ``folder`` as the model's training data was: its faces,
    the rows to score and their labels. Of a source with parts only the held-out ones count (the
    model may have trained on its training part); a source without parts is scored whole."""
    if not path.exists():
        raise UserError(
            f"{path}: no labelled data set there (--data takes class folders, a FER-2013 CSV or "
            "packed .tar files)"
        )
    spec = SourceSpec(
        encoding.classes, data.aliases, data.csv_emotions, "auto", color=encoding.color
    )
    outcome = preparation.prepare(
        read_source(path, spec), encoding.classes, as_trained(encoding), folder
    )
    prepared = outcome.prepared
    held_out = np.flatnonzero(prepared.roles != hygiene.TRAIN)
    return prepared.faces, held_out, prepared.labels[held_out]


def score_labelled_set(
    model_dir: Path, path: Path, data: DataParams, metrics_file: Path | None = None
) -> Score:
    """The model scored on the labelled set at ``path``; its metrics written to ``metrics_file``
    where given (an extra set of the pipeline), else nothing written: its faces are prepared into
    a temporary folder, gone when the score is."""
    predictor = Predictor(model_dir)
    with tempfile.TemporaryDirectory(prefix="emotions-set-") as folder:
        scored = labelled_set(path, predictor.meta, data, Path(folder))
        evaluation, seconds = _evaluation(predictor, *scored)
    metrics = {**evaluation.metrics(), "calibration": evaluation.calibration()}
    if metrics_file is not None:
        write_text(metrics_file, json.dumps(metrics, indent=2) + "\n")
    return Score(evaluation, metrics, seconds)
