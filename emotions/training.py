"""Fitting the network reproducibly, with per-epoch curves logged by dvclive."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dvclive import Live
from dvclive.keras import DVCLiveCallback

from emotions.augment import Augmentation, Batches, balanced_class_weights
from emotions.model import build_model, with_flip_averaging
from emotions.params import AugmentParams, ModelParams, TrainParams
from emotions.prepared import Prepared

PLATEAU_PATIENCE = 3  # epochs of stalled validation loss before the learning rate is halved


def make_deterministic(seed: int) -> None:
    """Seeds alone do not make TensorFlow repeatable: op determinism is needed as well."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _callbacks(p: TrainParams, live: Live) -> list[keras.callbacks.Callback]:
    callbacks: list[keras.callbacks.Callback] = [DVCLiveCallback(live=live)]
    if p.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=PLATEAU_PATIENCE, min_lr=1e-5))
    if p.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=p.early_stopping, restore_best_weights=True)
        )
    return callbacks


def train(
    prepared: Prepared,
    split: dict[str, np.ndarray],
    model_params: ModelParams,
    train_params: TrainParams,
    augment_params: AugmentParams,
    live_dir: Path,
) -> keras.Model:
    """Train on the train part, validate each epoch on the validation part; the test part is never seen."""
    p = train_params
    make_deterministic(p.seed)
    num_classes = len(prepared.classes)
    model = build_model(prepared.image_size, num_classes, model_params)
    train_idx, val_idx = split["train"], split["val"]
    labels = prepared.labels[train_idx]
    batches = Batches(
        prepared.images[train_idx],
        labels,
        p.batch_size,
        p.seed,
        Augmentation(**vars(augment_params)) if p.augment else None,
        balanced_class_weights(labels, num_classes) if p.class_weights else None,
    )
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = p.learning_rate
    if p.lr_schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(p.learning_rate, decay_steps=p.epochs * len(batches))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    with Live(str(live_dir), dvcyaml=None, save_dvc_exp=False) as live:
        history = model.fit(
            batches,
            validation_data=(prepared.images[val_idx][..., np.newaxis], prepared.labels[val_idx]),
            epochs=p.epochs,
            callbacks=_callbacks(p, live),
            verbose=1 if sys.stdout.isatty() else 2,  # a progress bar on a terminal, one line per epoch in logs
        )
    seconds = time.perf_counter() - started
    epochs = len(history.epoch)
    print(f"train: {epochs} epochs in {seconds:.1f} s, {len(train_idx) * epochs / seconds:.0f} images/s")
    return with_flip_averaging(model) if model_params.tta_flip else model
