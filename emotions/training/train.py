"""The train stage's work in three steps: fit the network, build the saved model from it, export
and check it into the model folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotions.data.store import Prepared
from emotions.params import AugmentParams, TrainParams
from emotions.training.assemble import saved_model
from emotions.training.export import save_checked
from emotions.training.fit import fit
from emotions.training.networks import ModelParams


def train(
    prepared: Prepared,
    split: dict[str, np.ndarray],
    model_params: ModelParams,
    train_params: TrainParams,
    augment_params: AugmentParams,
    model_dir: Path,
    live_dir: Path,
) -> float:
    """Train and write ``model_dir``; returns the largest difference between Keras and the export on
    the validation faces."""
    trained = fit(prepared, split, model_params, train_params, augment_params, live_dir)
    model = saved_model(trained, prepared, split["val"], model_params, train_params.calibrate)
    return save_checked(model, prepared.encoding, model_dir, prepared.images[split["val"]])
