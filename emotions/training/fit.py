"""Fitting the network reproducibly, in phases of image size, with per-epoch curves logged by
dvclive."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dvclive.keras import DVCLiveCallback

from dvclive import Live
from emotions.data import votes
from emotions.data.store import Prepared
from emotions.errors import UserError
from emotions.params import AugmentParams, TrainParams
from emotions.training import devices, teacher, workers
from emotions.training.batches import Batches, balanced_class_weights, validation_batches
from emotions.training.networks import NETWORKS, ModelParams, build_model
from emotions.training.precision import arithmetic

DIGITS = 5  # significant digits of what is logged: the last bits of floating point stay out
PLATEAU_PATIENCE = 3  # epochs of stalled validation loss before the learning rate is halved


def make_deterministic(seed: int) -> None:
    """Seeds alone do not make TensorFlow repeatable: op determinism is needed as well."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class SparseCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy (integer labels, as in the reference design) with optional
    label smoothing, which Keras offers for one-hot labels only."""

    def __init__(self, num_classes: int, smoothing: float) -> None:
        super().__init__(name="sparse_categorical_crossentropy")
        self.num_classes, self.smoothing = num_classes, smoothing

    def call(self, y_true, y_pred):
        one_hot = keras.ops.one_hot(
            keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), self.num_classes
        )
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.smoothing
        )


def kept_accuracy(kept: int) -> keras.metrics.Metric:
    """Accuracy as the saved model will score it: a face of a predicted class counts as right when
    its class tops the predicted classes' outputs (extra classes' outputs ignored); a face of an
    extra class, when its class tops them all. Plain accuracy when there are no extra classes."""

    def accuracy(y_true, y_pred):
        if (
            len(y_true.shape) == 2 and y_true.shape[-1] == y_pred.shape[-1]
        ):  # rows of class probabilities
            y_true = keras.ops.argmax(y_true, axis=-1)
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        among_kept = keras.ops.cast(keras.ops.argmax(y_pred[:, :kept], axis=-1), "int32")
        among_all = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "int32")
        guess = keras.ops.where(labels < kept, among_kept, among_all)
        return keras.ops.cast(keras.ops.equal(guess, labels), "float32")

    return keras.metrics.MeanMetricWrapper(accuracy, name="accuracy")


def _targets(
    prepared: Prepared, train_idx: np.ndarray, val_idx: np.ndarray, p: TrainParams
) -> tuple[np.ndarray, np.ndarray, keras.losses.Loss]:
    """Training targets by ``train.target`` (with a teacher's probabilities mixed in), validation
    targets, and the loss for them. Validation always scores the single label, as the test does,
    so runs with different targets compare."""
    num_classes = len(prepared.all_classes)
    if p.target == "votes":
        targets = votes.distribution(_votes(prepared, train_idx))
    elif p.target == "majority":
        targets = votes.majority(_votes(prepared, train_idx))
    else:
        targets = prepared.labels[train_idx]
    if p.teacher is not None:
        if targets.ndim == 1:
            targets = np.eye(num_classes, dtype=np.float32)[targets]
        taught = teacher.probabilities(p.teacher, prepared, train_idx)
        targets = (1 - p.teacher_weight) * targets + p.teacher_weight * taught
    if targets.ndim == 2:  # soft targets: rows of probabilities, so categorical cross-entropy
        one_hot = np.eye(num_classes, dtype=np.float32)[prepared.labels[val_idx]]
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=p.label_smoothing)
        return targets.astype(np.float32), one_hot, loss
    return targets, prepared.labels[val_idx], SparseCrossentropy(num_classes, p.label_smoothing)


def _votes(prepared: Prepared, rows: np.ndarray) -> np.ndarray:
    if prepared.votes is None:
        raise UserError(
            "train.target: crowd targets need crowd votes, and this data set has none (see "
            "data.votes)"
        )
    return prepared.votes[rows]


def _optimizer(p: TrainParams, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = p.learning_rate
    if p.lr_schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            p.learning_rate, decay_steps=p.epochs * steps_per_epoch
        )
    if p.weight_decay > 0:
        return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=p.weight_decay)
    return keras.optimizers.Adam(learning_rate=learning_rate)


class _EpochLog(DVCLiveCallback):
    """Logs every epoch to dvclive, rounded to ``DIGITS`` significant digits so that the last bits
    of floating point do not show in the committed curves; the run's ``Live`` ends once, after the
    last training phase."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(
            epoch, {name: float(f"{value:.{DIGITS}g}") for name, value in (logs or {}).items()}
        )

    def on_train_end(self, logs: dict | None = None) -> None:
        pass


def _callbacks(p: TrainParams, live: Live, full_size: bool) -> list[keras.callbacks.Callback]:
    """Early stopping and the plateau schedule watch full-size epochs only: a low-resolution phase's
    validation scores are not comparable with them."""
    callbacks: list[keras.callbacks.Callback] = [_EpochLog(live=live)]
    if not full_size:
        return callbacks
    if p.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=PLATEAU_PATIENCE, min_lr=1e-5
            )
        )
    if p.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=p.early_stopping,
                restore_best_weights=True,
            )
        )
    return callbacks


@contextmanager
def _dtype_policy(policy: str) -> Iterator[None]:
    """Layers built inside compute in ``policy`` (mixed ones keep float32 weights); float32
    after."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def crop_at(crop: int, size: int, image_size: int) -> int:
    """The side of the crops trained on at ``size`` (a low-resolution phase scales them with the
    faces); 0 without ``augment.crop``."""
    return round(crop * size / image_size)


def _check(image_size: int, model_params: ModelParams, p: TrainParams, crop: int) -> None:
    """Checks that need the prepared image size, made before any training starts."""
    if 2 * model_params.tta_shift >= image_size:
        raise UserError(
            f"model.tta_shift: must be less than half the image size ({image_size}), got "
            f"{model_params.tta_shift}"
        )
    if model_params.tta_crops and not crop:
        raise UserError("model.tta_crops: needs augment.crop, the side of the crops trained on")
    network, architecture = model_params.chosen, model_params.architecture
    smallest, rule = network.smallest_size(model_params.network)
    if crop and not smallest <= crop < image_size:
        raise UserError(
            f"augment.crop: must be from {rule} ({smallest}) to less than the image size "
            f"({image_size}), got {crop}"
        )
    small = crop_at(crop, p.low_res_size, image_size)  # 0 without crops or the phase
    if crop and p.low_res_size and small < smallest:
        raise UserError(
            f"augment.crop: {crop} at train.low_res_size {p.low_res_size} makes crops of "
            f"{small} pixels, and model.architecture {architecture} needs at least {rule} "
            f"({smallest})"
        )
    if image_size < smallest:
        raise UserError(
            f"prepare.image_size: model.architecture {architecture} needs at least {rule} "
            f"({smallest}), got {image_size}"
        )
    if p.low_res_size and not network.ANY_SIZE:
        any_size = ", ".join(name for name, other in NETWORKS.items() if other.ANY_SIZE)
        raise UserError(
            "train.low_res_size: needs a model.architecture that takes any image size "
            f"({any_size}), "
            f"and {architecture} fixes its image size"
        )
    if p.low_res_size and not smallest <= p.low_res_size < image_size:
        raise UserError(
            f"train.low_res_size: must be from {rule} ({smallest}) to less than the "
            f"image size ({image_size}), got {p.low_res_size}"
        )


def fit(
    prepared: Prepared,
    split: dict[str, np.ndarray],
    model_params: ModelParams,
    train_params: TrainParams,
    augment_params: AugmentParams,
    live_dir: Path,
) -> keras.Model:
    """The network fitted on the train part, validated each epoch on the validation part (the test
    part is never seen); as trained: maybe in mixed precision and for any image size."""
    p = train_params
    crop = augment_params.crop
    _check(prepared.image_size, model_params, p, crop)
    place = workers.cluster() if p.distribute == "multi_worker" else None
    strategy = devices.strategy(p.distribute)  # before anything runs: the CPU may still be split
    replicas = strategy.num_replicas_in_sync
    if replicas > 1:
        if p.batch_size % replicas:
            raise UserError(
                f"train.batch_size: must be a multiple of the {replicas} devices train.distribute "
                f"mirrors over, got {p.batch_size}"
            )
        where = f"worker {place.index} of {place.workers}, " if place else ""
        print(f"train: {where}mirrored over {replicas} devices, {p.batch_size} faces a step in all")
    make_deterministic(p.seed)
    num_classes = len(prepared.all_classes)  # extra classes get outputs too while training
    train_idx, val_idx = split["train"], split["val"]
    targets, val_targets, loss = _targets(prepared, train_idx, val_idx, p)
    classes_of = targets if targets.ndim == 1 else np.argmax(targets, axis=1)
    weights = (
        balanced_class_weights(classes_of, num_classes)[classes_of] if p.class_weights else None
    )
    augmentation = augment_params if p.augment else None
    # (image size, first epoch, end)
    phases = [(p.low_res_size, 0, p.low_res_epochs)] if p.low_res_size else []
    phases.append((prepared.image_size, p.low_res_epochs if p.low_res_size else 0, p.epochs))
    faces = prepared.faces
    batches = [
        Batches(
            faces,
            train_idx,
            targets,
            p.batch_size,
            p.seed,
            augmentation,
            weights,
            size,
            p.shuffle_mb,
            first_epoch=first,
            replicas=replicas,
            crop=crop_at(crop, size, prepared.image_size),
        )
        for size, first, _ in phases
    ]
    policy, why = arithmetic(p.precision, p.onednn)
    print(f"train: {why}")
    with _dtype_policy(policy):
        any_size = None if p.low_res_size else crop or prepared.image_size
        with strategy.scope():  # the variables, mirrored where there are several replicas
            model = build_model(any_size, prepared.encoding.channels, num_classes, model_params)
            model.compile(
                optimizer=_optimizer(p, len(batches[0])),
                loss=loss,
                metrics=[kept_accuracy(len(prepared.classes))],
            )
        started, epochs = time.perf_counter(), 0
        # a worker other than the chief logs to a folder that goes away: only the chief writes
        with (
            (
                nullcontext(str(live_dir))
                if place is None or place.chief
                else tempfile.TemporaryDirectory()
            ) as log_dir,
            Live(log_dir, dvcyaml=None, save_dvc_exp=False) as live,
            workers.mended_fit(place) if place else nullcontext(),
        ):
            for (size, first, end), phase_batches in zip(phases, batches, strict=True):
                if len(phases) > 1:
                    print(f"train: epochs {first + 1}-{end} on {size}x{size} images")
                history = model.fit(
                    phase_batches.dataset(),
                    steps_per_epoch=len(phase_batches),
                    shuffle=False,  # the batches are shuffled already, by seed
                    validation_data=validation_batches(
                        faces,
                        val_idx,
                        val_targets,
                        size,
                        p.batch_size,
                        replicas,
                        phase_batches.crop,  # validated on the crops' side of this phase
                    ),
                    initial_epoch=first,
                    epochs=end,
                    callbacks=_callbacks(p, live, full_size=size == prepared.image_size),
                    # a progress bar on a terminal, one line per epoch in logs
                    verbose=1 if sys.stdout.isatty() else 2,
                )
                epochs += len(history.epoch)
        if place:  # a copy off the strategy, whose predict would wait for the other workers
            local = build_model(any_size, prepared.encoding.channels, num_classes, model_params)
            local.set_weights(model.get_weights())
            model = local
    seconds = time.perf_counter() - started
    print(
        f"train: {epochs} epochs in {seconds:.1f} s, {len(train_idx) * epochs / seconds:.0f} "
        "images/s"
    )
    return model
