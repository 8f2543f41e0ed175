"""Fitting the network reproducibly, with per-epoch curves logged by dvclive."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dvclive import Live
from dvclive.keras import DVCLiveCallback

from emotions.dataset import Prepared
from emotions.model import build_model
from emotions.params import ModelParams, TrainParams


def make_deterministic(seed: int) -> None:
    """Seeds alone do not make TensorFlow repeatable: op determinism is needed as well."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train(
    prepared: Prepared,
    split: dict[str, np.ndarray],
    model_params: ModelParams,
    train_params: TrainParams,
    live_dir: Path,
) -> keras.Model:
    """Train on the train part, validate each epoch on the validation part; the test part is never seen."""
    make_deterministic(train_params.seed)
    model = build_model(prepared.image_size, len(prepared.classes), model_params)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=train_params.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    images = prepared.images[..., np.newaxis]
    train_idx, val_idx = split["train"], split["val"]
    with Live(str(live_dir), dvcyaml=None, save_dvc_exp=False) as live:
        model.fit(
            images[train_idx],
            prepared.labels[train_idx],
            validation_data=(images[val_idx], prepared.labels[val_idx]),
            epochs=train_params.epochs,
            batch_size=train_params.batch_size,
            shuffle=True,
            callbacks=[DVCLiveCallback(live=live)],
            verbose=1 if sys.stdout.isatty() else 2,  # a progress bar on a terminal, one line per epoch in logs
        )
    return model
