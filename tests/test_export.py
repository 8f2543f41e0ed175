"""Exporting the saved model: ONNX that answers as Keras does, byte-identical files, the temperature
in both, and a check that keeps the previous model whole."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions import params
from emotions.data.encoding import Encoding
from emotions.prediction.classify import predict_images
from emotions.saved import bundle
from emotions.saved.runtime import Predictor
from emotions.training.keras_file import load_keras, save_keras
from emotions.training.networks import ModelParams
from tests.conftest import (
    CLASSES,
    META,
    TINY_PARAMS,
    changed,
    shape_image,
    write_image,
)

# trains networks or runs stages and DVC: `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow


def test_onnx_export_matches_keras_within_1e_4(model_dir: Path, tmp_path: Path) -> None:
    from emotions.training.export import largest_difference, to_onnx
    from emotions.training.layers import with_test_time_augmentation
    from emotions.training.networks import build_model

    x = np.random.default_rng(3).random((300, 16, 16), dtype=np.float32)
    assert largest_difference(load_keras(model_dir), model_dir / bundle.ONNX_FILE, x) <= 1e-4
    vgg = params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg"}))
    averaged = with_test_time_augmentation(build_model(16, 1, 3, vgg), 16, flip=True, shift=2)
    to_onnx(averaged, tmp_path / "vgg.onnx")
    assert largest_difference(averaged, tmp_path / "vgg.onnx", x) <= 1e-4


def test_saving_the_same_model_twice_gives_identical_bytes(tmp_path: Path) -> None:
    import time

    import keras

    from emotions.training.networks import build_model

    def fresh() -> keras.Model:
        keras.backend.clear_session()  # layer names start again from conv2d, as in a new process
        keras.mixed_precision.set_global_policy(
            "float32"
        )  # a new policy object, as in each training run
        keras.utils.set_random_seed(0)
        return build_model(16, 1, 3, params.load(ModelParams, TINY_PARAMS))

    first, second = fresh(), fresh()  # equal weights; the layers' shared policy at another address
    save_keras(first, tmp_path / "a" / bundle.MODEL_FILE)
    time.sleep(2.1)  # zip entry times have a 2 s resolution: Keras' own saves would differ now
    save_keras(second, tmp_path / "b" / bundle.MODEL_FILE)
    assert (tmp_path / "a" / bundle.MODEL_FILE).read_bytes() == (
        tmp_path / "b" / bundle.MODEL_FILE
    ).read_bytes()
    again = load_keras(tmp_path / "a")
    x = np.random.default_rng(0).random((4, 16, 16, 1), dtype=np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), first.predict(x, verbose=0))


def test_a_failed_export_check_keeps_the_previous_model_whole(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NaN fails the check too, and nothing of the new model (not even its meta.json) replaces the
    old."""
    from emotions.errors import UserError
    from emotions.training import export

    target = shutil.copytree(model_dir, tmp_path / "models")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    monkeypatch.setattr(export, "largest_difference", lambda *_: float("nan"))
    other_meta = Encoding(("a", "b", "c"), 16, face_detect=False)
    with pytest.raises(
        UserError, match=r"models/model.onnx: exported model differs from Keras by nan"
    ):
        export.save_checked(
            load_keras(model_dir), other_meta, target, np.zeros((2, 16, 16), np.float32)
        )
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["models"]  # no temporary folder left


def test_onnx_export_names_its_additions_the_same_every_run(model_dir: Path) -> None:
    """tf2onnx numbers the nodes and constants it adds from a counter that moves on from run to run,
    and picks among equal constants differently: the file's bytes must not change with that."""
    import onnx

    from emotions.training.export import _canonical

    exported = (model_dir / bundle.ONNX_FILE).read_bytes()
    other_run = onnx.load_from_string(exported)
    graph = other_run.graph

    def moved(name: str) -> str:  # tf2onnx__7 -> Const__107 (output suffixes such as :0 kept)
        return re.sub(r"^tf2onnx__(\d+)", lambda m: f"Const__{int(m[1]) + 100}", name)

    for node in graph.node:
        node.name, node.input[:], node.output[:] = (
            moved(node.name),
            map(moved, node.input),
            map(moved, node.output),
        )
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

    from emotions.saved.calibration import tempered, uncalibrated
    from emotions.saved.runtime import OnnxModel
    from emotions.training.export import save_checked
    from emotions.training.layers import (
        temperature_of,
        with_temperature,
        with_test_time_augmentation,
    )
    from emotions.training.networks import build_model

    vgg = params.load(ModelParams, changed(TINY_PARAMS, {"model.architecture": "vgg"}))
    network = with_test_time_augmentation(build_model(16, 1, 3, vgg), 16, flip=True, shift=1)
    x = np.random.default_rng(5).random((64, 16, 16), dtype=np.float32)
    own = network.predict(x[..., np.newaxis], verbose=0)
    calibrated = with_temperature(network, 2.5)
    assert temperature_of(calibrated) == 2.5 and temperature_of(network) == 1.0
    save_checked(calibrated, META, tmp_path / "models", x)
    from_keras = load_keras(tmp_path / "models").predict(x[..., np.newaxis], verbose=0)
    exported = OnnxModel(tmp_path / "models" / bundle.ONNX_FILE)
    from_onnx = exported.probabilities(x)
    expected = tempered(own, 2.5)
    assert np.abs(expected - own).max() > 0.01  # the temperature changes the answers' probabilities
    np.testing.assert_allclose(from_keras, expected, atol=1e-5)
    np.testing.assert_allclose(from_onnx, expected, atol=1e-5)
    assert (from_onnx.argmax(axis=1) == own.argmax(axis=1)).all()
    np.testing.assert_allclose(uncalibrated(from_onnx, 2.5), own, atol=1e-5)
    assert (
        exported.temperature == 2.5
    )  # what evaluate reads to score the probabilities before and after
    props = {
        p.key: p.value
        for p in onnx.load(str(tmp_path / "models" / bundle.ONNX_FILE)).metadata_props
    }
    assert props["temperature"] == "2.5" and "softmax(temperature * log(p))" in props["calibration"]


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
    pixels = cv2.resize(
        cv2.imread(str(face), cv2.IMREAD_GRAYSCALE), (size, size), interpolation=cv2.INTER_AREA
    )
    probabilities = session.run(None, {"images": pixels[None, :, :, None].astype("float32") / 255})[
        0
    ][0]

    assert (
        classes == list(CLASSES) and size == 16 and json_module.loads(info["face_detect"]) is False
    )
    assert "divided by 255" in info["input"]
    expected = predict_images(Predictor(model_dir), [(face, None)])[0].probabilities
    assert expected is not None
    np.testing.assert_allclose(probabilities, [expected[c] for c in CLASSES], atol=1e-4)
