"""The network, training, saving and predicting, on a tiny generated data set (one TensorFlow import)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions import params
from emotions.data import preparation, splitting
from emotions.data.encoding import Encoding
from emotions.inference.prediction import Predictor, as_csv, as_json, as_table, expand_inputs
from emotions.model import bundle
from emotions.model.networks import ModelParams
from tests.conftest import (
    CLASSES,
    ROOT,
    TINY_PARAMS,
    changed,
    drawn_face,
    make_dataset,
    prepare_params,
    prepare_source,
    shape_image,
    spec,
    write_image,
)

pytestmark = pytest.mark.slow  # trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it

META = Encoding(CLASSES, 16, face_detect=False)


def tiny_training(**changes: object) -> tuple[ModelParams, params.TrainParams, params.AugmentParams]:
    raw = changed(TINY_PARAMS, {"train.epochs": 8, **changes})
    return params.load(ModelParams, raw), params.load(params.TrainParams, raw), params.load(params.AugmentParams, raw)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained for a few epochs on shapes that stand in for emotions."""
    from emotions.model.export import save_checked
    from emotions.model.training import train

    root = tmp_path_factory.mktemp("trained")
    prepared, _, _ = prepare_source(make_dataset(root / "raw", per_class=12))
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.2, 0.2, seed=0)
    model = train(prepared, split, *tiny_training(), root / "live")
    save_checked(model, META, root / "models", prepared.images)
    assert (root / "live" / "metrics.json").exists()  # dvclive logged the run
    return root / "models"


def test_onnx_export_matches_keras_within_1e_4(model_dir: Path, tmp_path: Path) -> None:
    from emotions.model.export import largest_difference, to_onnx
    from emotions.model.layers import with_test_time_augmentation
    from emotions.model.networks import build_model

    x = np.random.default_rng(3).random((300, 16, 16), dtype=np.float32)
    assert largest_difference(bundle.load_keras(model_dir), model_dir / bundle.ONNX_FILE, x) <= 1e-4
    vgg = params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg"}))
    averaged = with_test_time_augmentation(build_model(16, 3, vgg), flip=True, shift=2)
    to_onnx(averaged, tmp_path / "vgg.onnx")
    assert largest_difference(averaged, tmp_path / "vgg.onnx", x) <= 1e-4


def test_saving_the_same_model_twice_gives_identical_bytes(tmp_path: Path) -> None:
    import time

    import keras

    from emotions.model.networks import build_model

    def fresh() -> keras.Model:
        keras.backend.clear_session()  # layer names start again from conv2d, as in a new process
        keras.mixed_precision.set_global_policy("float32")  # a new policy object, as in each training run
        keras.utils.set_random_seed(0)
        return build_model(16, 3, params.load(ModelParams, TINY_PARAMS))

    first, second = fresh(), fresh()  # equal weights; the layers' shared policy at another address
    bundle.save_keras(first, tmp_path / "a" / bundle.MODEL_FILE)
    time.sleep(2.1)  # zip entry times have a 2 s resolution: Keras' own saves would differ now
    bundle.save_keras(second, tmp_path / "b" / bundle.MODEL_FILE)
    assert (tmp_path / "a" / bundle.MODEL_FILE).read_bytes() == (tmp_path / "b" / bundle.MODEL_FILE).read_bytes()
    again = bundle.load_keras(tmp_path / "a")
    x = np.random.default_rng(0).random((4, 16, 16, 1), dtype=np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), first.predict(x, verbose=0))


def test_a_failed_export_check_keeps_the_previous_model_whole(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NaN fails the check too, and nothing of the new model (not even its meta.json) replaces the old."""
    from emotions.errors import UserError
    from emotions.model import export

    target = shutil.copytree(model_dir, tmp_path / "models")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    monkeypatch.setattr(export, "largest_difference", lambda *_: float("nan"))
    other_meta = Encoding(("a", "b", "c"), 16, face_detect=False)
    with pytest.raises(UserError, match=r"models/model.onnx: exported model differs from Keras by nan"):
        export.save_checked(bundle.load_keras(model_dir), other_meta, target, np.zeros((2, 16, 16), np.float32))
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["models"]  # no temporary folder left


def test_onnx_export_names_its_additions_the_same_every_run(model_dir: Path) -> None:
    """tf2onnx numbers the nodes and constants it adds from a counter that moves on from run to run,
    and picks among equal constants differently: the file's bytes must not change with that."""
    import onnx

    from emotions.model.export import _canonical

    exported = (model_dir / bundle.ONNX_FILE).read_bytes()
    other_run = onnx.load_from_string(exported)
    graph = other_run.graph

    def moved(name: str) -> str:  # tf2onnx__7 -> Const__107 (output suffixes such as :0 kept)
        return re.sub(r"^tf2onnx__(\d+)", lambda m: f"Const__{int(m[1]) + 100}", name)

    for node in graph.node:
        node.name, node.input[:], node.output[:] = moved(node.name), map(moved, node.input), map(moved, node.output)
    for item in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]:
        item.name = moved(item.name)
    constants = list(graph.initializer)[::-1]
    del graph.initializer[:]
    graph.initializer.extend(constants)
    assert other_run.SerializeToString() != exported
    _canonical(other_run)
    assert other_run.SerializeToString() == exported


def test_the_saved_model_and_its_export_apply_the_temperature(tmp_path: Path) -> None:
    """On top of test-time augmentation (an average of softmaxes): both files answer the network's
    probabilities divided in log space by the temperature, with the same top class, and the
    network's own come back from them."""
    import onnx

    from emotions.inference.calibration import tempered, uncalibrated
    from emotions.inference.runtime import OnnxModel
    from emotions.model.export import save_checked
    from emotions.model.layers import temperature_of, with_temperature, with_test_time_augmentation
    from emotions.model.networks import build_model

    vgg = params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg"}))
    network = with_test_time_augmentation(build_model(16, 3, vgg), flip=True, shift=1)
    x = np.random.default_rng(5).random((64, 16, 16), dtype=np.float32)
    own = network.predict(x[..., np.newaxis], verbose=0)
    calibrated = with_temperature(network, 2.5)
    assert temperature_of(calibrated) == 2.5 and temperature_of(network) == 1.0
    save_checked(calibrated, META, tmp_path / "models", x)
    from_keras = bundle.load_keras(tmp_path / "models").predict(x[..., np.newaxis], verbose=0)
    exported = OnnxModel(tmp_path / "models" / bundle.ONNX_FILE)
    from_onnx = exported.probabilities(x)
    expected = tempered(own, 2.5)
    assert np.abs(expected - own).max() > 0.01  # the temperature changes the answers' probabilities
    np.testing.assert_allclose(from_keras, expected, atol=1e-5)
    np.testing.assert_allclose(from_onnx, expected, atol=1e-5)
    assert (from_onnx.argmax(axis=1) == own.argmax(axis=1)).all()
    np.testing.assert_allclose(uncalibrated(from_onnx, 2.5), own, atol=1e-5)
    assert exported.temperature == 2.5  # what evaluate reads to score the probabilities before and after
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "models" / bundle.ONNX_FILE)).metadata_props}
    assert props["temperature"] == "2.5" and "softmax(temperature * log(p))" in props["calibration"]


def test_training_calibrates_unless_told_not_to(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import onnx

    from emotions.inference import runtime
    from emotions.model.layers import Temperature, temperature_of
    from emotions.model.training import calibrated, train

    saved = bundle.load_keras(model_dir)  # trained with train.calibrate true
    temperature = runtime.load(model_dir).temperature
    assert temperature_of(saved) == temperature
    props = {p.key: p.value for p in onnx.load(str(model_dir / bundle.ONNX_FILE)).metadata_props}
    assert float(props["temperature"]) == temperature

    prepared, _, _ = prepare_source(make_dataset(tmp_path / "raw", per_class=12))
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.2, 0.2, seed=0)
    capsys.readouterr()
    plain = train(prepared, split, *tiny_training(**{"train.calibrate": False}), tmp_path / "live")
    assert "temperature" not in capsys.readouterr().out
    assert temperature_of(plain) == 1.0 and not any(isinstance(layer, Temperature) for layer in plain.layers)
    for a, b in zip(saved.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the same network, only maybe without the temperature

    # a quarter of the faces relabelled: the network is surely wrong on those, so the fitted temperature softens it
    faces = prepared.images[split["train"]]
    labels = (prepared.labels[split["train"]] + (np.arange(len(faces)) % 4 == 0)) % 3
    softened = calibrated(plain, faces, labels)
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(
        rf"train: temperature {temperature_of(softened):g} fitted on {len(faces)} validation images "
        r"\(negative log-likelihood \d+\.\d{4} before, \d+\.\d{4} after\)",
        line,
    ), line
    assert temperature_of(softened) > 1
    # only faces it answers right: the sharper the likelier, past the end of the range: no temperature
    right = plain.predict(faces[..., np.newaxis], verbose=0).argmax(axis=1) == prepared.labels[split["train"]]
    assert calibrated(plain, faces[right], prepared.labels[split["train"]][right]) is plain
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"train: no temperature fitted on {right.sum()} validation images: even at 0.25, the end")
    assert line.endswith("there), so its probabilities are kept")


def test_predict_path_imports_no_tensorflow_sklearn_or_dvc() -> None:
    heavy = "('tensorflow', 'keras', 'sklearn', 'dvc', 'dvclive')"
    code = f"import sys, stages.predict; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_reference_cnn_layout() -> None:
    from emotions.model.networks import build_model

    model = build_model(48, 3, params.load(ModelParams, TINY_PARAMS))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert model.output_shape == (None, 3)


def test_vgg_network_and_test_time_augmentation(tmp_path: Path) -> None:
    import keras

    from emotions.model.layers import with_test_time_augmentation
    from emotions.model.networks import build_model

    p = params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg"}))
    model = build_model(16, 3, p)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 2 and kinds.count("BatchNormalization") == 3 and "GlobalAveragePooling2D" in kinds
    deeper = build_model(
        16,
        3,
        params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg", "model.vgg.convs": [1, 3, 2]})),
    )
    filters = [layer.filters for layer in deeper.layers if isinstance(layer, keras.layers.Conv2D)]
    assert filters == [4, 8, 8, 8, 16, 16]  # convs per block as listed, filters doubling per block
    assert [type(layer).__name__ for layer in deeper.layers].count("MaxPooling2D") == 3
    x = np.random.default_rng(0).random((4, 16, 16, 1), dtype=np.float32)
    flipped = with_test_time_augmentation(model, flip=True, shift=0)
    out = flipped.predict(x, verbose=0)
    np.testing.assert_allclose(out, flipped.predict(x[:, :, ::-1], verbose=0), atol=1e-5)  # symmetric by design
    np.testing.assert_allclose(out, (model.predict(x, verbose=0) + model.predict(x[:, :, ::-1], verbose=0)) / 2, atol=1e-5)

    def moved(dx: int, dy: int) -> np.ndarray:  # what the augmentation's warp does: reflect-101 border
        matrix = np.float32([[1, 0, dx], [0, 1, dy]])
        return np.stack([cv2.warpAffine(i[..., 0], matrix, (16, 16), borderMode=cv2.BORDER_REFLECT_101) for i in x])[..., None]

    views = [x, moved(2, 0), moved(-2, 0), moved(0, 2), moved(0, -2)]
    expected = np.mean([model.predict(v, verbose=0) for v in views], axis=0)
    shifted = with_test_time_augmentation(model, flip=False, shift=2)
    np.testing.assert_allclose(shifted.predict(x, verbose=0), expected, atol=1e-5)
    both = with_test_time_augmentation(model, flip=True, shift=2)
    bundle.save_keras(both, tmp_path / bundle.MODEL_FILE)
    np.testing.assert_allclose(bundle.load_keras(tmp_path).predict(x, verbose=0), both.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model.tta_shift": 8}, "model.tta_shift: must be less than half the image size (16), got 8"),
        (
            {"train.low_res_size": 8, "train.low_res_epochs": 1},
            "train.low_res_size: needs a model.architecture that takes any image size (vgg), and reference fixes its image size",
        ),
        (
            {"model.architecture": "vgg", "train.low_res_size": 16, "train.low_res_epochs": 1},
            "train.low_res_size: must be from 2**len(model.vgg.convs) (4) to less than the image size (16), got 16",
        ),
        (
            {"model.architecture": "vgg", "model.vgg.convs": [1, 1, 2], "train.low_res_size": 4, "train.low_res_epochs": 1},
            "train.low_res_size: must be from 2**len(model.vgg.convs) (8) to less than the image size (16), got 4",
        ),
        (
            {"model.architecture": "vgg", "model.vgg.convs": [1, 1, 1, 1, 1]},
            "prepare.image_size: model.architecture vgg needs at least 2**len(model.vgg.convs) (32), got 16",
        ),
    ],
)
def test_options_that_do_not_fit_the_image_size_are_refused(tmp_path: Path, changes: dict, message: str) -> None:
    import re

    from emotions.errors import UserError
    from emotions.model.training import train

    prepared, _, _ = prepare_source(make_dataset(tmp_path / "raw", per_class=4))
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.25, 0.25, seed=0)
    with pytest.raises(UserError, match=f"^{re.escape(message)}$"):
        train(prepared, split, *tiny_training(**changes), tmp_path / "live")
    assert not (tmp_path / "live").exists()  # refused before anything was written


def test_resized_averages_pixel_areas() -> None:
    from emotions.model.training import resized

    images = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    small = resized(images, 2)
    expected = images.reshape(2, 2, 2, 2, 2).mean(axis=(2, 4))  # the mean of each 2x2 block
    np.testing.assert_allclose(small, expected, rtol=1e-6)
    assert resized(images, 4) is images


def test_low_resolution_phase_trains_small_then_full_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from emotions.model import training
    from emotions.model.export import save_checked

    sizes: list[tuple[int, int]] = []  # (image side, first epoch) of each training phase's batches

    class Recording(training.Batches):
        def __init__(self, images: np.ndarray, *args: object, first_epoch: int = 0) -> None:
            sizes.append((images.shape[1], first_epoch))
            super().__init__(images, *args, first_epoch=first_epoch)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "Batches", Recording)
    prepared, _, _ = prepare_source(make_dataset(tmp_path / "raw", per_class=10))
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.2, 0.2, seed=0)
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
    models = [training.train(prepared, split, *options, tmp_path / f"live{i}") for i in range(2)]
    assert sizes == [(8, 0), (16, 2)] * 2
    assert models[0].input_shape == (None, 16, 16, 1)  # saved for the full size
    for split_name in ("train", "eval"):
        rows = (tmp_path / "live0" / "plots" / "metrics" / split_name / "accuracy.tsv").read_text().splitlines()
        assert [row.split("\t")[0] for row in rows[1:]] == ["0", "1", "2"]  # one step per epoch, across both phases
    for a, b in zip(*(m.get_weights() for m in models), strict=True):
        np.testing.assert_array_equal(a, b)
    assert save_checked(models[0], META, tmp_path / "models", prepared.images) <= 1e-4


def test_loss_is_sparse_crossentropy_with_optional_label_smoothing() -> None:
    import keras

    from emotions.model.training import SparseCrossentropy

    labels = np.array([0, 2, 1, 2])
    probabilities = np.random.default_rng(1).dirichlet(np.ones(3), size=4).astype(np.float32)
    plain = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    np.testing.assert_allclose(SparseCrossentropy(3, 0.0)(labels, probabilities), plain, rtol=1e-6)
    smoothed_targets = np.eye(3)[labels] * 0.9 + 0.1 / 3
    expected = np.mean(-np.sum(smoothed_targets * np.log(probabilities), axis=1))
    np.testing.assert_allclose(SparseCrossentropy(3, 0.1)(labels, probabilities), expected, rtol=1e-5)


def test_mixed_precision_trains_in_bfloat16_and_saves_float32(tmp_path: Path) -> None:
    import keras

    from emotions.model.export import save_checked
    from emotions.model.training import train

    prepared, _, _ = prepare_source(make_dataset(tmp_path / "raw", per_class=10))
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.2, 0.2, seed=0)
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
    models = [train(prepared, split, *options, tmp_path / f"live{i}") for i in range(2)]
    assert keras.mixed_precision.global_policy().name == "float32"  # restored for whatever runs next
    network = next(layer for layer in models[0].layers if isinstance(layer, keras.Model))
    assert {layer.dtype_policy.name for layer in network.layers} == {"float32"}
    assert models[0].name.endswith("_tta")
    rows = (tmp_path / "live0" / "plots" / "metrics" / "train" / "loss.tsv").read_text().splitlines()
    assert len(rows) == 1 + 2 and all(np.isfinite(float(row.split("\t")[-1])) for row in rows[1:])
    for a, b in zip(*(m.get_weights() for m in models), strict=True):
        np.testing.assert_array_equal(a, b)  # bfloat16 runs repeat too
    assert save_checked(models[0], META, tmp_path / "models", prepared.images) <= 1e-4


def test_training_logs_loss_and_accuracy_per_epoch(model_dir: Path) -> None:
    live = model_dir.parent / "live" / "plots" / "metrics"
    for split in ("train", "eval"):
        for metric in ("loss", "accuracy"):
            rows = (live / split / f"{metric}.tsv").read_text().strip().splitlines()
            assert len(rows) == 1 + 8, f"{split}/{metric}: one row per epoch"
            values = [float(row.split("\t")[-1]) for row in rows[1:]]
            assert values == [float(f"{v:.5g}") for v in values], "rounded: the last bits of floating point do not show"


def test_predictions_are_the_trained_networks_answers_in_class_order(model_dir: Path, tmp_path: Path) -> None:
    """What predict reports for an image file is what the Keras network answers on the image
    preprocessed as prepare does, each probability under its class's name."""
    from emotions.data.imaging import preprocess, read_gray

    paths = [write_image(tmp_path / f"{name}.png", shape_image(i, seed=99)) for i, name in enumerate(CLASSES)]
    predictions = Predictor(model_dir).predict(expand_inputs([str(p) for p in paths]))
    network = bundle.load_keras(model_dir).predict(np.stack([preprocess(read_gray(p), 16) for p in paths])[..., None], verbose=0)
    for p, answer in zip(predictions, network, strict=True):
        assert p.probabilities is not None
        np.testing.assert_allclose([p.probabilities[c] for c in CLASSES], answer, atol=1e-4)
        assert p.label == CLASSES[int(np.argmax(answer))]
    assert [p.label for p in predictions] == list(CLASSES)  # the shapes are easy


def test_bad_items_are_reported_and_the_rest_predicted(model_dir: Path, tmp_path: Path) -> None:
    good = write_image(tmp_path / "in" / "good.png", shape_image(0))
    (tmp_path / "in" / "bad.jpg").write_bytes(b"\xff\xd8\xff cut")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    inputs = expand_inputs(
        [str(tmp_path / "in"), str(tmp_path / "missing.png"), str(tmp_path / "empty"), str(tmp_path / "notes.txt")]
    )
    predictions = Predictor(model_dir).predict(inputs)
    assert [(Path(p.path).name, p.error) for p in predictions] == [
        ("bad.jpg", "truncated JPEG"),
        ("good.png", None),
        ("missing.png", "no such file or folder"),
        ("empty", "folder has no images or videos"),
        ("notes.txt", "not a readable image"),
    ]
    assert predictions[1].label is not None
    table = as_table(predictions, CLASSES)
    assert "error: truncated JPEG" in table and good.as_posix() in table
    csv_text = as_csv(predictions, CLASSES)
    assert csv_text.splitlines()[0] == "path,label,angry,happy,sad,box,error"
    assert json.loads(as_json(predictions))[0] == {"path": str(tmp_path / "in" / "bad.jpg"), "error": "truncated JPEG"}


def test_globs_expand_to_matching_files(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / f"f{i}.png", shape_image(0))
    found = expand_inputs([str(tmp_path / "f*.png"), str(tmp_path / "z*.png")])
    assert [p.name for p, _ in found] == ["f0.png", "f1.png", "f2.png", "z*.png"]
    assert found[-1][1] == "pattern matches no file"


def test_broken_links_are_reported_not_skipped(model_dir: Path, tmp_path: Path) -> None:
    """In a folder, matched by a pattern or given by name, a link to nothing is one error row, image or video."""
    write_image(tmp_path / "in" / "good.png", shape_image(0))
    (tmp_path / "in" / "gone.png").symlink_to(tmp_path / "deleted.png")
    (tmp_path / "in" / "gone.mp4").symlink_to(tmp_path / "deleted.mp4")
    (tmp_path / "direct.jpg").symlink_to("nowhere.jpg")
    inputs = expand_inputs([str(tmp_path / "in"), str(tmp_path / "in" / "g*.png"), str(tmp_path / "direct.jpg")])
    assert [(p.name, error) for p, error in inputs] == [
        ("gone.mp4", f"broken link (to {tmp_path / 'deleted.mp4'})"),
        ("gone.png", f"broken link (to {tmp_path / 'deleted.png'})"),
        ("good.png", None),
        ("gone.png", f"broken link (to {tmp_path / 'deleted.png'})"),
        ("good.png", None),
        ("direct.jpg", "broken link (to nowhere.jpg)"),
    ]
    from emotions.inference.video import predict_all

    rows = predict_all(Predictor(model_dir), inputs)
    assert [(Path(r.path).name, r.error) for r in rows] == [(p.name, error) for p, error in inputs]


def test_predict_command_json(model_dir: Path, tmp_path: Path) -> None:
    image = write_image(tmp_path / "face.png", shape_image(1, seed=5))
    result = subprocess.run(
        [sys.executable, "-m", "stages.predict", str(image), "--json", "--model-dir", str(model_dir)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    [expected] = Predictor(model_dir).predict([(image, None)])
    assert json.loads(result.stdout) == [{"path": str(image), "label": expected.label, "probabilities": expected.probabilities}]


def test_predict_command_fails_only_when_nothing_was_predicted(model_dir: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stages.predict", str(tmp_path / "none.png"), "--model-dir", str(model_dir)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr and "Traceback" not in result.stderr


def test_same_seed_same_weights(tmp_path: Path, model_dir: Path) -> None:
    from emotions.model.training import train

    prepared, _, _ = prepare_source(make_dataset(tmp_path / "raw", per_class=12))
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.2, 0.2, seed=0)
    again = train(prepared, split, *tiny_training(), tmp_path / "live")
    first = bundle.load_keras(model_dir)
    for a, b in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_evaluate_scores_any_labelled_set_and_writes_nothing(model_dir: Path, project_dir: Path) -> None:
    other = make_dataset(project_dir / "other", classes=("Angry", "happy", "sad"), per_class=4)
    before = sorted(p.relative_to(project_dir) for p in project_dir.rglob("*"))
    base = [sys.executable, "-m", "stages.evaluate", "--data", str(other), "--model-dir", str(model_dir)]
    as_json_run = subprocess.run([*base, "--json"], capture_output=True, text=True)
    assert as_json_run.returncode == 0, as_json_run.stderr
    metrics = json.loads(as_json_run.stdout)
    files = sorted(other.rglob("*.png"))
    answers = Predictor(model_dir).predict([(path, None) for path in files])
    right = [answer.label == path.parent.name.lower() for answer, path in zip(answers, files, strict=True)]
    assert metrics["test_images"] == 12 and metrics["accuracy"] == round(float(np.mean(right)), 4)
    assert set(metrics["per_class"]["sad"]) == {"precision", "recall", "f1", "support"}
    text_run = subprocess.run(base, capture_output=True, text=True)
    assert text_run.returncode == 0 and "macro avg" in text_run.stdout
    assert sorted(p.relative_to(project_dir) for p in project_dir.rglob("*") if "__pycache__" not in p.parts) == [
        p for p in before if "__pycache__" not in p.parts
    ]


def test_evaluate_data_that_is_missing_is_named(model_dir: Path, project_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stages.evaluate", "--data", "nowhere", "--model-dir", str(model_dir)],
        capture_output=True,
        text=True,
    )
    assert (
        result.returncode == 2 and result.stderr.strip() == "error: nowhere: raw data not found (set data.source in params.yaml)"
    )


@pytest.fixture
def face_model_dir(model_dir: Path, tmp_path: Path) -> Path:
    """The tiny model, marked as trained on face crops: predict must then detect faces too."""
    target = tmp_path / "face_model"
    shutil.copytree(model_dir, target)
    meta = json.loads((target / "meta.json").read_text())
    (target / "meta.json").write_text(json.dumps({**meta, "face_detect": True}))
    return target


def test_every_face_in_a_photo_gets_a_box_and_an_annotated_copy(face_model_dir: Path, tmp_path: Path) -> None:
    two = np.concatenate([drawn_face(), drawn_face()], axis=1)  # two faces side by side
    photo = write_image(tmp_path / "photos" / "two.png", cv2.cvtColor(two, cv2.COLOR_GRAY2BGR))
    empty = write_image(tmp_path / "photos" / "wall.png", np.full((120, 160), 90, np.uint8))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.predict",
            str(tmp_path / "photos"),
            "--json",
            "--model-dir",
            str(face_model_dir),
            "--annotate",
            str(tmp_path / "annotated"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    faces = [r for r in rows if r["path"] == str(photo)]
    assert len(faces) == 2 and all(len(r["box"]) == 4 and r["label"] in CLASSES for r in faces)
    assert sorted(r["box"][0] + r["box"][2] / 2 < 200 for r in faces) == [False, True]  # one face in each half
    assert [r for r in rows if r["path"] == str(empty)] == [{"path": str(empty), "error": "no face found"}]
    annotated = cv2.imread(str(tmp_path / "annotated" / "two.png"))
    assert annotated.shape[0] > 200 and annotated.shape[1] >= 400  # the photo with margins for the labels
    assert not (tmp_path / "annotated" / "wall.png").exists()


@pytest.mark.parametrize("size", [64, 1000])
def test_annotated_labels_fit_and_leave_the_face_untouched(size: int) -> None:
    from emotions.inference.figures import FONT, annotate

    rng = np.random.default_rng(size)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    box = (size // 4, 0, size // 2, size // 2)  # a face at the top edge: no room above it in the photo
    for faces in ([(None, "happy", 1.0)], [(box, "angry", 0.42)]):
        out = annotate(image, faces)
        (x, y, w, h) = faces[0][0] or (0, 0, size, size)
        face = image[y : y + h, x : x + w]
        _, _, (left, top), _ = cv2.minMaxLoc(cv2.matchTemplate(out, face, cv2.TM_SQDIFF))
        assert np.array_equal(out[top : top + h, left : left + w], face)  # the face's pixels, all unchanged
        label = f"{faces[0][1]} {faces[0][2]:.0%}"
        assert out.shape[1] >= cv2.getTextSize(label, FONT, 0.5, 1)[0][0]  # room for a readable label
        assert (out[:top] != 255).any()  # the label, above the face


def test_huge_and_tiny_images(model_dir: Path, tmp_path: Path) -> None:
    huge = write_image(tmp_path / "huge.png", np.zeros((10000, 10000), np.uint8))
    tiny = write_image(tmp_path / "tiny.png", np.zeros((1, 1), np.uint8))
    predictions = Predictor(model_dir).predict(expand_inputs([str(huge), str(tiny)]))
    assert predictions[0].label is not None
    assert predictions[1].error == "too small (1x1 pixels)"


def test_kept_accuracy_scores_as_the_saved_model_will() -> None:
    from emotions.model.training import kept_accuracy

    metric = kept_accuracy(2)  # classes 0 and 1 are predicted, class 2 is extra
    probabilities = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.1, 0.7], [0.2, 0.3, 0.5]], np.float32)
    metric.update_state(np.array([1, 0, 2, 0]), probabilities)
    # right: 1 tops the kept outputs; 0 tops them; extra class 2 tops all; wrong: 1 tops the kept outputs, not 0
    assert float(metric.result()) == pytest.approx(0.75)


def test_extra_classes_train_but_the_saved_model_predicts_the_kept_ones(tmp_path: Path) -> None:
    import keras

    from emotions.data.sources import read_source
    from emotions.model.export import largest_difference, to_onnx
    from emotions.model.training import train

    every = (*CLASSES, "fear", "neutral")
    root = make_dataset(tmp_path / "raw", classes=every, per_class=10)
    prepared, _, _ = preparation.prepare(
        read_source(root, spec(every)), CLASSES, prepare_params(), extra_classes=("fear", "neutral")
    )
    assert prepared.classes == CLASSES and prepared.all_classes == every
    assert set(prepared.labels.tolist()) == {0, 1, 2, 3, 4}
    split = splitting.split(prepared.labels, prepared.parts, prepared.classes, 0.2, 0.2, seed=0)
    model = train(prepared, split, *tiny_training(**{"train.epochs": 2, "train.calibrate": False}), tmp_path / "live")
    network = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    assert network.output_shape == (None, 5) and model.output_shape == (None, 3)
    images = prepared.images[split["test"]][..., np.newaxis]
    all_outputs = network.predict(images, verbose=0)
    np.testing.assert_allclose(
        model.predict(images, verbose=0), all_outputs[:, :3] / all_outputs[:, :3].sum(axis=1, keepdims=True), rtol=1e-5
    )
    to_onnx(model, tmp_path / "m.onnx")
    assert largest_difference(model, tmp_path / "m.onnx", prepared.images[split["test"]]) <= 1e-4


@pytest.mark.parametrize("target", ["majority", "votes"])
def test_crowd_targets_are_what_training_fits(tmp_path: Path, target: str) -> None:
    """A crowd that votes 'angry' for every face, against the shapes' own labels: trained on the
    crowd's targets the network answers 'angry'; validation still scores the single label."""
    import dataclasses

    from emotions.model.training import train

    prepared, _, _ = prepare_source(make_dataset(tmp_path / "raw", per_class=10))
    crowd = np.zeros((len(prepared.labels), 3), np.float32)
    crowd[:, 0] = 8
    crowd[np.arange(len(crowd)), prepared.labels] += 2  # the face's own label gets a minority of votes
    prepared = dataclasses.replace(prepared, votes=crowd)
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.2, 0.2, seed=0)
    model = train(prepared, split, *tiny_training(**{"train.target": target, "train.epochs": 12}), tmp_path / "live")
    answers = model.predict(prepared.images[split["train"]][..., np.newaxis], verbose=0).argmax(axis=1)
    assert (answers == 0).mean() > 0.9
    val_accuracy = json.loads((tmp_path / "live" / "metrics.json").read_text())["eval"]["accuracy"]
    assert val_accuracy == pytest.approx(
        (prepared.labels[split["val"]] == 0).mean(), abs=1e-4
    )  # against the labels (logged rounded)


def test_crowd_targets_need_votes(tmp_path: Path) -> None:
    from emotions.errors import UserError
    from emotions.model.training import train

    prepared, _, _ = prepare_source(make_dataset(tmp_path / "raw", per_class=4))
    split = splitting.split(prepared.labels, prepared.parts, CLASSES, 0.25, 0.25, seed=0)
    with pytest.raises(UserError, match=r"^train.target: crowd targets need crowd votes"):
        train(prepared, split, *tiny_training(**{"train.target": "votes"}), tmp_path / "live")


def test_the_onnx_file_alone_is_enough_to_classify_a_face(model_dir: Path, tmp_path: Path) -> None:
    """The README's few lines: classes, size and preprocessing all come from the file's metadata,
    and give what predict gives."""
    import json as json_module

    import onnxruntime as ort

    face = tmp_path / "face.png"
    write_image(face, shape_image(1, size=40, seed=7))

    session = ort.InferenceSession(str(model_dir / "model.onnx"))
    info = session.get_modelmeta().custom_metadata_map
    classes, size = json_module.loads(info["classes"]), int(info["image_size"])
    pixels = cv2.resize(cv2.imread(str(face), cv2.IMREAD_GRAYSCALE), (size, size), interpolation=cv2.INTER_AREA)
    probabilities = session.run(None, {"images": pixels[None, :, :, None].astype("float32") / 255})[0][0]

    assert classes == list(CLASSES) and size == 16 and json_module.loads(info["face_detect"]) is False
    assert "divided by 255" in info["input"]
    expected = Predictor(model_dir).predict([(face, None)])[0].probabilities
    assert expected is not None
    np.testing.assert_allclose(probabilities, [expected[c] for c in CLASSES], atol=1e-4)
