"""The train stage's work in three steps: fit the network, build the saved model from it, export
and check it into the model folder."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from emotions.data.imaging import to_input
from emotions.data.store import Prepared
from emotions.files import write_text
from emotions.params import AugmentParams, TrainParams
from emotions.training import workers
from emotions.training.assemble import saved_model
from emotions.training.export import save_checked
from emotions.training.fit import DIGITS, fit
from emotions.training.networks import ModelParams

CHECKED_FACES = 1024  # validation faces the export must answer as Keras does
SAVED = "saved_model"  # dvclive's summary: the saved model's scores beside the last epoch's


def trained_model(
    prepared: Prepared,
    split: dict[str, np.ndarray],
    model_params: ModelParams,
    train_params: TrainParams,
    augment_params: AugmentParams,
    live_dir: Path,
) -> keras.Model | None:
    """The network fitted, then wrapped as it is saved; None for a worker other than the chief,
    which only trains. The saved model's validation accuracy joins dvclive's summary: with
    test-time views it is what compares recipes on what they ship."""
    trained = fit(prepared, split, model_params, train_params, augment_params, live_dir)
    if train_params.distribute == "multi_worker" and not workers.cluster().chief:
        return None
    saved = saved_model(
        trained,
        prepared,
        split["val"],
        model_params,
        train_params.calibrate,
        augment_params.crop,
    )
    summary_file = live_dir / "metrics.json"
    summary = json.loads(summary_file.read_text())
    summary[SAVED] = {"val_accuracy": float(f"{saved.val_accuracy:.{DIGITS}g}")}
    write_text(summary_file, json.dumps(summary, indent=4) + "\n")
    print(
        f"train: the saved model's validation accuracy, as exported: {saved.val_accuracy:.4f} "
        f"({SAVED}.val_accuracy)"
    )
    return saved.model


def train(
    prepared: Prepared,
    split: dict[str, np.ndarray],
    model_params: ModelParams,
    train_params: TrainParams,
    augment_params: AugmentParams,
    model_dir: Path,
    live_dir: Path,
) -> float | None:
    """Train and write ``model_dir``; returns the largest difference between Keras and the export on
    the first ``CHECKED_FACES`` validation faces. A worker other than the chief only trains, and
    returns None."""
    model = trained_model(prepared, split, model_params, train_params, augment_params, live_dir)
    if model is None:
        return None
    sample = prepared.faces.read(split["val"][:CHECKED_FACES])
    return save_checked(model, prepared.encoding, model_dir, to_input(sample))
