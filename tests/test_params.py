from __future__ import annotations

import re
from pathlib import Path

import pytest

from emotions import params
from emotions.data.sources import SourceSpec
from emotions.errors import UserError
from emotions.training.networks import ModelParams
from tests.conftest import ROOT, TINY_PARAMS, changed


def load_with(section: type, change: dict | None = None, remove: str | None = None):
    return params.load(
        section, changed(TINY_PARAMS, {**(change or {}), **({remove: None} if remove else {})})
    )


def test_valid_sections_become_typed_frozen_objects() -> None:
    train = load_with(params.TrainParams)
    assert train == params.TrainParams(
        epochs=1,
        batch_size=8,
        shuffle_mb=256.0,
        learning_rate=0.01,
        seed=0,
        augment=False,
        class_weights=False,
        early_stopping=0,
        lr_schedule="constant",
        weight_decay=0.0,
        label_smoothing=0.0,
        precision="float32",
        onednn="auto",
        target="label",
        teacher=None,
        teacher_weight=0.5,
        low_res_size=0,
        low_res_epochs=0,
        distribute="auto",
        calibrate=True,
    )
    with pytest.raises(AttributeError):
        train.epochs = 3  # type: ignore[misc]
    data = load_with(params.DataParams)
    assert data.classes == ("angry", "happy", "sad") and data.source == Path("data/raw")


@pytest.mark.parametrize(
    ("section", "change", "message"),
    [
        (params.TrainParams, {"train.epochs": 0}, "train.epochs: must be an integer >= 1, got 0"),
        (
            params.TrainParams,
            {"train.epochs": 2.5},
            "train.epochs: must be an integer >= 1, got 2.5",
        ),
        (
            params.TrainParams,
            {"train.batch_size": 0},
            "train.batch_size: must be an integer >= 1, got 0",
        ),
        (
            params.TrainParams,
            {"train.learning_rate": 0},
            "train.learning_rate: must be a number > 0",
        ),
        (
            params.SplitParams,
            {"split.val_fraction": 0},
            "split.val_fraction: must be a number in (0, 1), got 0",
        ),
        (
            params.SplitParams,
            {"split.test_fraction": 1.5},
            "split.test_fraction: must be a number in (0, 1)",
        ),
        (
            params.SplitParams,
            {"split.val_fraction": 0.5, "split.test_fraction": 0.5},
            "must sum to less than 1",
        ),
        (
            params.PrepareParams,
            {"prepare.image_size": 4},
            "prepare.image_size: must be an integer >= 8",
        ),
        (
            params.PrepareParams,
            {"prepare.on_bad_image": "ignore"},
            "prepare.on_bad_image: must be one of skip, error",
        ),
        (
            params.DataParams,
            {"data.classes": ["sad", "happy", "sad"]},
            "data.classes: duplicate class name 'sad'",
        ),
        (
            params.DataParams,
            {"data.classes": ["sad"]},
            "data.classes: must be a list of at least 2 class names",
        ),
        (
            ModelParams,
            {"model.reference.dropout": 1.0},
            "model.reference.dropout: must be a number in [0, 1)",
        ),
        (params.TrainParams, {"train.epoch": 3}, "train.epoch: unknown key in params.yaml"),
        (
            params.DataParams,
            {"data.format": "parquet"},
            "data.format: must be one of auto, folders, csv",
        ),
        (
            params.DataParams,
            {"data.aliases": {"joy": "joyful"}},
            "data.aliases: maps onto 'joyful', which is not in data.classes or data.extra_classes",
        ),
        (
            params.DataParams,
            {"data.extra_classes": ["fear", "happy"]},
            "data.extra_classes: 'happy' is in data.classes already",
        ),
        (
            params.DataParams,
            {"data.extra_classes": ["Sad"]},  # one folder with sad/ on macOS and Windows
            "data.extra_classes: 'Sad' is in data.classes already",
        ),
        (
            params.DataParams,
            {"data.extra_classes": "fear"},
            "data.extra_classes: must be a list of at least 0 class names, got 'fear'",
        ),
        (
            params.DataParams,
            {"data.classes": ["Sad", "happy", "sad"]},
            "data.classes: duplicate class name 'sad' (the same as 'Sad': case does not matter)",
        ),
        (
            params.TrainParams,
            {"train.lr_schedule": "step"},
            "train.lr_schedule: must be one of constant, plateau, cosine",
        ),
        (
            params.TrainParams,
            {"train.early_stopping": -1},
            "train.early_stopping: must be an integer >= 0",
        ),
        (
            params.TrainParams,
            {"train.weight_decay": -0.1},
            "train.weight_decay: must be a number >= 0",
        ),
        (
            params.TrainParams,
            {"train.label_smoothing": 1},
            "train.label_smoothing: must be a number in [0, 1)",
        ),
        (
            params.TrainParams,
            {"train.precision": "bf16"},
            "train.precision: must be one of auto, float32, mixed, got 'bf16'",
        ),
        (
            params.TrainParams,
            {"train.onednn": "yes"},
            "train.onednn: must be auto, true or false, got 'yes'",
        ),
        (
            params.TrainParams,
            {"train.low_res_size": -8},
            "train.low_res_size: must be an integer >= 0, got -8",
        ),
        (
            params.TrainParams,
            {"train.calibrate": 3},
            "train.calibrate: must be true or false, got 3",
        ),
        (
            params.TrainParams,
            {"train.calibrate": "yes"},
            "train.calibrate: must be true or false, got 'yes'",
        ),
        (
            params.TrainParams,
            {"train.low_res_size": 8, "train.epochs": 3},
            "train.low_res_epochs: must be from 1 to train.epochs - 1 (2) when train.low_res_size "
            "is set, got 0",
        ),
        (
            params.TrainParams,
            {"train.low_res_size": 8, "train.epochs": 3, "train.low_res_epochs": 3},
            "train.low_res_epochs: must be from 1 to train.epochs - 1 (2)",
        ),
        (
            ModelParams,
            {"model.architecture": "resnet"},
            "model.architecture: must be one of reference, vgg",
        ),
        (
            ModelParams,
            {"model.vgg.convs": 3},
            "model.vgg.convs: must be a list of 1 to 5 integers, each from 1 to 4, got 3",
        ),
        (
            ModelParams,
            {"model.vgg.convs": []},
            "model.vgg.convs: must be a list of 1 to 5 integers, each from 1 to 4, got []",
        ),
        (
            ModelParams,
            {"model.vgg.convs": [1, 0]},
            "model.vgg.convs: must be a list of 1 to 5 integers, each from 1 to 4, got [1, 0]",
        ),
        (
            ModelParams,
            {"model.vgg.convs": [1, True]},
            "model.vgg.convs: must be a list of 1 to 5 integers",
        ),
        (
            ModelParams,
            {"model.vgg.convs": [1] * 6},
            "model.vgg.convs: must be a list of 1 to 5 integers",
        ),
        (ModelParams, {"model.vgg.width": 2}, "model.vgg.width: must be an integer >= 4, got 2"),
        (
            ModelParams,
            {"model.vgg.widht": 32},
            "model.vgg.widht: unknown key in params.yaml",
        ),  # a section not chosen
        (
            ModelParams,
            {"model.vgg_width": 32},
            "model.vgg_width: unknown key in params.yaml",
        ),  # the old flat keys
        (ModelParams, {"model.resnet": {}}, "model.resnet: unknown key in params.yaml"),
        (ModelParams, {"model.vgg": None}, "model.vgg: missing section in params.yaml"),
        (
            ModelParams,
            {"model.reference": [1]},
            "model.reference: must be a mapping of keys, got [1]",
        ),
        (params.AugmentParams, {"augment.shift": 1.5}, "augment.shift: must be a number in [0, 1)"),
        (params.PrepareParams, {"prepare.min_std": -1}, "prepare.min_std: must be a number >= 0"),
        (
            params.PrepareParams,
            {"prepare.dedupe": "yes"},
            "prepare.dedupe: must be true or false, got 'yes'",
        ),
        (
            params.SampleParams,
            {"sample.per_class": 2},
            "sample.per_class: must be an integer >= 3, got 2",
        ),
        (
            params.SampleParams,
            {"sample.new_per_class": -1},
            "sample.new_per_class: must be an integer >= 0, got -1",
        ),
        (
            params.SampleParams,
            {"sample.image_size": 8},
            "sample.image_size: must be an integer >= 16, got 8",
        ),
        (params.SampleParams, {"sample.seed": -1}, "sample.seed: must be an integer >= 0, got -1"),
        (
            params.SampleParams,
            {"sample.classes": ["happy"]},
            "sample.classes: unknown key in params.yaml",
        ),  # data.classes now
    ],
)
def test_bad_values_name_the_key(section: type, change: dict, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        load_with(section, change)


@pytest.mark.parametrize(
    ("classes", "aliases"),
    [(["Angry", "happy", "sad"], {"Wut": "Angry"}), (["angry", "happy", "sad"], {"wut": "ANGRY"})],
)
def test_aliases_onto_class_names_in_any_case(classes: list[str], aliases: dict[str, str]) -> None:
    data = load_with(params.DataParams, {"data.classes": classes, "data.aliases": aliases})
    assert data.aliases == {"wut": aliases[next(iter(aliases))]}
    spec = SourceSpec(data.classes, data.aliases, data.csv_emotions, data.format)
    assert spec.canonical("WUT") == classes[0] and spec.canonical("HAPPY") == "happy"


def test_model_params_hold_the_chosen_networks_own_params() -> None:
    from emotions.training.networks import reference, vgg

    model = load_with(ModelParams, {"model.architecture": "vgg"})
    assert model.network == vgg.Params(width=4, convs=(1, 1), dense_units=8, dropout=0.0)
    assert model.chosen is vgg and load_with(ModelParams).chosen is reference


def test_missing_key_and_section_are_named() -> None:
    with pytest.raises(UserError, match=r"^train\.seed: missing key in params.yaml$"):
        load_with(params.TrainParams, remove="train.seed")
    with pytest.raises(UserError, match=r"^model: missing section in params.yaml$"):
        params.load(ModelParams, {"train": {}})


def test_missing_and_malformed_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="params.yaml: parameters file not found"):
        params.read_yaml(tmp_path / "params.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: [1\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.yaml: not valid YAML at line \d+"):
        params.read_yaml(bad)


def load_sets(sets: object) -> params.EvaluateParams:
    return params.load(params.EvaluateParams, {"evaluate": {"sets": sets}})


def test_extra_test_sets_become_names_and_paths() -> None:
    assert load_sets({}).sets == {}
    assert (
        params.load(params.EvaluateParams, params.read_yaml(ROOT / "params.yaml")).sets == {}
    )  # the default: none
    loaded = load_sets({"fer": "data/fer.csv", "my faces 2": "photos/my faces"})
    assert loaded.sets == {"fer": Path("data/fer.csv"), "my faces 2": Path("photos/my faces")}
    assert loaded.path("my faces 2") == Path("photos/my faces")
    with pytest.raises(
        UserError,
        match=r"^evaluate\.sets\.kdef: missing key in params.yaml \(the sets are: fer, my faces "
        r"2\)$",
    ):
        loaded.path("kdef")
    for empty in (
        "",
        "  ",
    ):  # `evaluate --set ""` must not fall back to rewriting the test's reports
        with pytest.raises(
            UserError, match=r"^--set: a set's name cannot be empty \(the sets are: fer, "
        ):
            loaded.path(empty)
    with pytest.raises(UserError, match=r"^evaluate: missing section in params.yaml$"):
        params.load(params.EvaluateParams, {"train": {}})


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (None, "evaluate.sets: must be a mapping of set name to path ({} for none), got None"),
        (
            ["data/fer.csv"],
            "evaluate.sets: must be a mapping of set name to path ({} for none), got "
            "['data/fer.csv']",
        ),
        (
            {"fer": ""},
            "evaluate.sets.fer: must be a path (a folder tree or a FER-2013 CSV), got ''",
        ),
        ({"fer": 3}, "evaluate.sets.fer: must be a path (a folder tree or a FER-2013 CSV), got 3"),
        (
            {"a/b": "x"},
            "evaluate.sets: set name 'a/b' must be letters, digits, spaces, '_', '.' or '-'",
        ),
        ({'a"$(rm)': "x"}, "evaluate.sets: set name 'a\"$(rm)' must be"),
        ({".hidden": "x"}, "evaluate.sets: set name '.hidden' must be"),
        ({"trailing ": "x"}, "evaluate.sets: set name 'trailing ' must be"),
        ({3: "x"}, "evaluate.sets: set name 3 must be"),
    ],
)
def test_bad_extra_test_sets_name_the_key(sets: object, message: str) -> None:
    with pytest.raises(UserError, match="^" + re.escape(message)):
        load_sets(sets)


def test_unknown_key_in_the_evaluate_section_is_named() -> None:
    with pytest.raises(UserError, match=r"^evaluate\.set: unknown key in params.yaml$"):
        params.load(params.EvaluateParams, {"evaluate": {"sets": {}, "set": {"fer": "x"}}})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.5", 2.5), (" 1e-3 ", 0.001), (30.0, 30.0), ("0", None), ("-1", None), (0.0, None)],
)
def test_positive_number_accepts_finite_numbers_above_zero(
    value: str | float, expected: float | None
) -> None:
    assert params.positive_number(value) == expected


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "", "fast", float("nan"), float("inf")])
def test_positive_number_refuses_what_is_no_finite_number(value: str | float) -> None:
    assert params.positive_number(value) is None
