"""Fitting: checks before any work, phases of image size, the loss, arithmetic, logs, seeds and
crowd targets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from emotions.data import splitting
from emotions.training.keras_file import load_keras
from tests.conftest import (
    CLASSES,
    META,
    faces_of,
    make_dataset,
    prepare_source,
    tiny_training,
    train_model,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"model.tta_shift": 8},
            "model.tta_shift: must be less than half the image size (16), got 8",
        ),
        (
            {"train.low_res_size": 8, "train.low_res_epochs": 1},
            "train.low_res_size: needs a model.architecture that takes any image size (vgg), and "
            "reference fixes its image size",
        ),
        (
            {"model.architecture": "vgg", "train.low_res_size": 16, "train.low_res_epochs": 1},
            "train.low_res_size: must be from 2**len(model.vgg.convs) (4) to less than the image "
            "size (16), got 16",
        ),
        (
            {
                "model.architecture": "vgg",
                "model.vgg.convs": [1, 1, 2],
                "train.low_res_size": 4,
                "train.low_res_epochs": 1,
            },
            "train.low_res_size: must be from 2**len(model.vgg.convs) (8) to less than the image "
            "size (16), got 4",
        ),
        (
            {"model.tta_crops": True},
            "model.tta_crops: needs augment.crop, the side of the crops trained on",
        ),
        (
            {"model.architecture": "vgg", "augment.crop": 16},
            "augment.crop: must be from 2**len(model.vgg.convs) (4) to less than the image size "
            "(16), got 16",
        ),
        (
            {
                "model.architecture": "vgg",
                "augment.crop": 12,
                "train.low_res_size": 4,
                "train.low_res_epochs": 1,
            },
            "augment.crop: 12 at train.low_res_size 4 makes crops of 3 pixels, and "
            "model.architecture vgg needs at least 2**len(model.vgg.convs) (4)",
        ),
        (
            {"model.architecture": "vgg", "model.vgg.convs": [1, 1, 1, 1, 1]},
            "prepare.image_size: model.architecture vgg needs at least 2**len(model.vgg.convs) "
            "(32), got 16",
        ),
    ],
)
def test_options_that_do_not_fit_the_image_size_are_refused(
    tmp_path: Path, changes: dict, message: str
) -> None:

    from emotions.errors import UserError

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=4)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.25, 0.25, seed=0)
    with pytest.raises(UserError, match=f"^{re.escape(message)}$"):
        train_model(prepared, split, *tiny_training(**changes), tmp_path / "live")
    assert not (tmp_path / "live").exists()  # refused before anything was written


@pytest.fixture
def phases(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, tuple[int, ...]]]:
    """(image side, first epoch, input shape) of the batches of each training phase fit makes."""
    from emotions.training import fit as training

    made: list[tuple[int, int, tuple[int, ...]]] = []

    class Recording(training.Batches):
        def __init__(self, *args: object, **kw: int) -> None:
            super().__init__(*args, **kw)  # type: ignore[arg-type]
            made.append((self.size, self.first_epoch, self.batch(0, 0)[0].shape[1:]))

    monkeypatch.setattr(training, "Batches", Recording)
    return made


def test_low_resolution_phase_trains_small_then_full_size(tmp_path: Path, phases: list) -> None:
    from emotions.training.export import save_checked

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=10)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    options = tiny_training(
        **{
            "model.architecture": "vgg",
            "model.tta_flip": True,
            "train.epochs": 3,
            "train.augment": True,
            "train.low_res_size": 8,
            "train.low_res_epochs": 2,
            "train.lr_schedule": "cosine",
            "train.precision": "mixed",
        }
    )
    models = [train_model(prepared, split, *options, tmp_path / f"live{i}") for i in range(2)]
    assert phases == [(8, 0, (8, 8, 1)), (16, 2, (16, 16, 1))] * 2
    assert models[0].input_shape == (None, 16, 16, 1)  # saved for the full size
    for split_name in ("train", "eval"):
        rows = (
            (tmp_path / "live0" / "plots" / "metrics" / split_name / "accuracy.tsv")
            .read_text()
            .splitlines()
        )
        assert [row.split("\t")[0] for row in rows[1:]] == [
            "0",
            "1",
            "2",
        ]  # one step per epoch, across both phases
    for a, b in zip(*(m.get_weights() for m in models), strict=True):
        np.testing.assert_array_equal(a, b)
    assert save_checked(models[0], META, tmp_path / "models", faces_of(prepared)) <= 1e-4


def test_crops_train_at_each_phase_and_the_saved_model_takes_whole_faces(
    tmp_path: Path, phases: list
) -> None:
    """augment.crop 12 of 16-pixel faces: 6-pixel crops at the 8-pixel phase, 12 after; the saved
    model answers whole faces with the mean of ten crops, and its export agrees."""
    import keras

    from emotions.training.export import save_checked
    from emotions.training.layers import Crop

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=10)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    options = tiny_training(
        **{
            "model.architecture": "vgg",
            "model.tta_crops": True,
            "augment.crop": 12,
            "train.epochs": 3,
            "train.augment": True,
            "train.low_res_size": 8,
            "train.low_res_epochs": 2,
        }
    )
    model = train_model(prepared, split, *options, tmp_path / "live")
    assert phases == [(8, 0, (6, 6, 1)), (16, 2, (12, 12, 1))]
    assert model.input_shape == (None, 16, 16, 1)

    def inner(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
        return [layer] + [x for sub in getattr(layer, "layers", []) for x in inner(sub)]

    crops = [layer for layer in inner(model) if isinstance(layer, Crop)]
    assert sorted((c.left, c.top, c.side) for c in crops) == [
        (0, 0, 12),
        (0, 4, 12),
        (2, 2, 12),
        (4, 0, 12),
        (4, 4, 12),
    ]
    assert save_checked(model, META, tmp_path / "models", faces_of(prepared)) <= 1e-4


def test_loss_is_sparse_crossentropy_with_optional_label_smoothing() -> None:
    import keras

    from emotions.training.fit import SparseCrossentropy

    labels = np.array([0, 2, 1, 2])
    probabilities = np.random.default_rng(1).dirichlet(np.ones(3), size=4).astype(np.float32)
    plain = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    np.testing.assert_allclose(SparseCrossentropy(3, 0.0)(labels, probabilities), plain, rtol=1e-6)
    smoothed_targets = np.eye(3)[labels] * 0.9 + 0.1 / 3
    expected = np.mean(-np.sum(smoothed_targets * np.log(probabilities), axis=1))
    np.testing.assert_allclose(
        SparseCrossentropy(3, 0.1)(labels, probabilities), expected, rtol=1e-5
    )


def test_mixed_precision_trains_in_bfloat16_and_saves_float32(tmp_path: Path) -> None:
    import keras

    from emotions.training.export import save_checked

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=10)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    options = tiny_training(
        **{
            "model.architecture": "vgg",
            "model.tta_flip": True,
            "train.epochs": 2,
            "train.precision": "mixed",
            "train.label_smoothing": 0.1,
            "train.weight_decay": 1e-4,
            "train.lr_schedule": "cosine",
            "train.calibrate": False,  # the network is the first model inside
        }
    )
    models = [train_model(prepared, split, *options, tmp_path / f"live{i}") for i in range(2)]
    assert (
        keras.mixed_precision.global_policy().name == "float32"
    )  # restored for whatever runs next
    network = next(layer for layer in models[0].layers if isinstance(layer, keras.Model))
    assert {layer.dtype_policy.name for layer in network.layers} == {"float32"}
    assert models[0].name.endswith("_tta")
    rows = (
        (tmp_path / "live0" / "plots" / "metrics" / "train" / "loss.tsv").read_text().splitlines()
    )
    assert len(rows) == 1 + 2 and all(np.isfinite(float(row.split("\t")[-1])) for row in rows[1:])
    for a, b in zip(*(m.get_weights() for m in models), strict=True):
        np.testing.assert_array_equal(a, b)  # bfloat16 runs repeat too
    assert save_checked(models[0], META, tmp_path / "models", faces_of(prepared)) <= 1e-4


def test_training_logs_loss_and_accuracy_per_epoch(model_dir: Path) -> None:
    live = model_dir.parent / "live" / "plots" / "metrics"
    for split in ("train", "eval"):
        for metric in ("loss", "accuracy"):
            rows = (live / split / f"{metric}.tsv").read_text().strip().splitlines()
            assert len(rows) == 1 + 8, f"{split}/{metric}: one row per epoch"
            values = [float(row.split("\t")[-1]) for row in rows[1:]]
            assert values == [float(f"{v:.5g}") for v in values], (
                "rounded: the last bits of floating point do not show"
            )


def test_same_seed_same_weights(tmp_path: Path, model_dir: Path) -> None:

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=12)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    again = train_model(prepared, split, *tiny_training(), tmp_path / "live")
    first = load_keras(model_dir)
    for a, b in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_kept_accuracy_scores_as_the_saved_model_will() -> None:
    from emotions.training.fit import kept_accuracy

    metric = kept_accuracy(2)  # classes 0 and 1 are predicted, class 2 is extra
    probabilities = np.array(
        [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.1, 0.7], [0.2, 0.3, 0.5]], np.float32
    )
    metric.update_state(np.array([1, 0, 2, 0]), probabilities)
    # right: 1 tops the kept outputs; 0 tops them; extra class 2 tops all; wrong: 1 tops the kept
    # outputs, not 0
    assert float(metric.result()) == pytest.approx(0.75)


@pytest.mark.parametrize("target", ["majority", "votes"])
def test_crowd_targets_are_what_training_fits(tmp_path: Path, target: str) -> None:
    """A crowd that votes 'angry' for every face, against the shapes' own labels: trained on the
    crowd's targets the network answers 'angry'; validation still scores the single label."""
    import dataclasses

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=10)).prepared
    crowd = np.zeros((len(prepared.labels), 3), np.float32)
    crowd[:, 0] = 8
    crowd[np.arange(len(crowd)), prepared.labels] += (
        2  # the face's own label gets a minority of votes
    )
    prepared = dataclasses.replace(prepared, votes=crowd)
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    model = train_model(
        prepared,
        split,
        *tiny_training(**{"train.target": target, "train.epochs": 12}),
        tmp_path / "live",
    )
    answers = model.predict(faces_of(prepared, split["train"]), verbose=0).argmax(axis=1)
    assert (answers == 0).mean() > 0.9
    val_accuracy = json.loads((tmp_path / "live" / "metrics.json").read_text())["eval"]["accuracy"]
    assert val_accuracy == pytest.approx(
        (prepared.labels[split["val"]] == 0).mean(), abs=1e-4
    )  # against the labels (logged rounded)


def test_crowd_targets_need_votes(tmp_path: Path) -> None:
    from emotions.errors import UserError

    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=4)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.25, 0.25, seed=0)
    with pytest.raises(UserError, match=r"^train.target: crowd targets need crowd votes"):
        train_model(prepared, split, *tiny_training(**{"train.target": "votes"}), tmp_path / "live")
