"""Shared fixtures: tiny generated images and a params file, so unit tests run in milliseconds."""

from __future__ import annotations

import copy
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest
import yaml

from emotions import config, params
from emotions.data import preparation, splitting
from emotions.data.encoding import Encoding
from emotions.data.imaging import to_input
from emotions.data.sources import SourceSpec, read_source
from emotions.data.store import Faces, Prepared, ShardWriter, save_index
from emotions.params import PrepareParams
from emotions.training.networks import ModelParams

if TYPE_CHECKING:
    import keras

ROOT = Path(__file__).resolve().parent.parent
# Test processes run side by side (pytest.ini: pytest-xdist) and start stages of their own: on a GPU
# each TensorFlow process takes memory as it needs it instead of all of it at once.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

# What the tests' small params change from the defaults (emotions.config): tiny images and networks.
TINY_CHANGES: dict[str, object] = {
    "data.source": "data/raw",
    "data.new": "data/new",
    "data.aliases": {"anger": "angry"},
    "sample.per_class": 12,
    "sample.new_per_class": 1,
    "sample.image_size": 32,
    "sample.seed": 1,
    "prepare.image_size": 16,
    "split.val_fraction": 0.2,
    "split.test_fraction": 0.2,
    "split.seed": 0,
    "model.reference.conv1_filters": 4,
    "model.reference.conv2_filters": 8,
    "model.reference.dense_units": 8,
    "model.reference.dropout": 0.0,
    "model.vgg.width": 4,
    "model.vgg.convs": [1, 1],
    "model.vgg.dense_units": 8,
    "model.vgg.dropout": 0.0,
    "train.epochs": 1,
    "train.batch_size": 8,
    "train.learning_rate": 0.01,
    "train.seed": 0,
    "train.augment": False,
    "train.precision": "float32",
}


def changed(raw: dict, changes: dict[str, object]) -> dict:
    """A deep copy of params ``raw`` with dotted keys set (``model.vgg.width``); None deletes a
    key."""
    raw = copy.deepcopy(raw)
    for dotted, value in changes.items():
        *sections, key = dotted.split(".")
        section = raw
        for name in sections:
            section = section[name]
        if value is None:
            del section[key]
        else:
            section[key] = value
    return raw


TINY_PARAMS = changed(config.defaults(), TINY_CHANGES)


def shape_image(kind: int, size: int = 24, seed: int = 0) -> np.ndarray:
    """A small 8-bit image whose shape depends on ``kind``: stand-in faces for fast tests."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size), 40, np.uint8)
    c = size // 2 + int(rng.integers(-2, 3))
    r = size // 3
    if kind == 0:
        cv2.circle(image, (c, c), r, 220, 2)
    elif kind == 1:
        cv2.rectangle(image, (c - r, c - r), (c + r, c + r), 220, -1)
    else:
        cv2.line(image, (2, 2), (size - 3, size - 3), 220, 3)
    image[0, 0], image[0, 1] = (
        seed % 256,
        seed // 256,
    )  # every seed a distinct image: no accidental duplicates
    return image


def drawn_face(size: int = 200) -> np.ndarray:
    """A face-like drawing the Haar cascade finds: light oval, dark eyes and brows, a mouth."""
    image = np.full((size, size), 30, np.uint8)
    c, r = size // 2, size // 3
    cv2.ellipse(image, (c, c), (r, int(r * 1.25)), 0, 0, 360, 200, -1)
    for dx in (-r // 2, r // 2):
        cv2.ellipse(image, (c + dx, c - r // 4), (r // 5, r // 9), 0, 0, 360, 40, -1)
        cv2.line(
            image, (c + dx - r // 4, c - r // 2), (c + dx + r // 4, c - r // 2), 60, max(2, r // 12)
        )
    cv2.line(image, (c, c - r // 8), (c, c + r // 4), 140, 2)
    cv2.ellipse(image, (c, c + r // 2), (r // 3, r // 8), 0, 0, 180, 60, -1)
    return cv2.GaussianBlur(image, (5, 5), 0)


def write_image(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image), path
    return path


def make_dataset(
    root: Path, classes: tuple[str, ...] = ("angry", "happy", "sad"), per_class: int = 6
) -> Path:
    """A raw data set with one sub-folder per class, each image distinct."""
    for index, name in enumerate(classes):
        for i in range(per_class):
            write_image(root / name / f"{name}_{i}.png", shape_image(index, seed=i))
    return root


CLASSES = ("angry", "happy", "sad")


CSV_EMOTIONS = tuple(TINY_PARAMS["data"]["csv_emotions"])


def spec(classes: tuple[str, ...] = CLASSES, fmt: str = "auto", color: str = "gray") -> SourceSpec:
    return SourceSpec(classes, {"anger": "angry"}, CSV_EMOTIONS, fmt, color=color)


def prepare_params(size: int = 16, **changes: object) -> PrepareParams:
    """Prepare's params for unit tests: every file read, no hygiene, no face detection, unless
    changed."""
    defaults = {
        "image_size": size,
        "color": "gray",
        "on_bad_image": "skip",
        "min_std": 0.0,
        "dedupe": False,
        "face_detect": False,
        "shard_mb": 1.0,
    }
    return PrepareParams(**{**defaults, **changes})  # type: ignore[arg-type]


def prepare_source(
    root: Path, classes: tuple[str, ...] = CLASSES, size: int = 16, **changes: object
) -> preparation.Outcome:
    """prepare() on a folder or CSV, as the prepare stage calls it, into a new folder beside it."""
    p = prepare_params(size, **changes)
    out = Path(tempfile.mkdtemp(prefix=f"{root.name}-prepared-", dir=root.parent))
    return preparation.prepare(read_source(root, spec(classes, color=p.color)), classes, p, out)


def prepared_from(
    faces: np.ndarray, labels: np.ndarray, encoding: Encoding, folder: Path
) -> Prepared:
    """Prepared data of 8-bit ``faces`` (N, H, W[, C]), written as shards into ``folder``: no
    source, no part names."""
    shape = (*faces.shape[1:3], 1 if faces.ndim == 3 else faces.shape[3])
    folder.mkdir(parents=True)
    writer = ShardWriter(folder, shape, shard_mb=1)
    for face in faces:
        writer.add(face)
    shards = Faces(folder, shape, writer.finish(), np.arange(len(faces)))
    prepared = Prepared(shards, labels, np.zeros(len(labels), np.int8), encoding)
    save_index(prepared)
    return prepared


def faces_of(prepared: Prepared, rows: np.ndarray | None = None) -> np.ndarray:
    """Prepared faces as the network reads them, (N, H, W, C) float32: all, or ``rows``."""
    which = np.arange(len(prepared.labels)) if rows is None else rows
    return to_input(prepared.faces.read(which))


@pytest.fixture
def raw_dataset(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "raw")


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the project's code and tiny params, as the current directory."""
    work = tmp_path / "project"
    work.mkdir()
    for name in ("stages", "emotions"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    write_params(work, TINY_PARAMS)
    monkeypatch.chdir(work)
    return work


def write_params(folder: Path, params: dict) -> Path:
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


META = Encoding(CLASSES, 16, face_detect=False)


def tiny_training(
    **changes: object,
) -> tuple[ModelParams, params.TrainParams, params.AugmentParams]:
    """The params of a few epochs of a tiny network, with dotted keys changed."""
    raw = changed(TINY_PARAMS, {"train.epochs": 8, **changes})
    return (
        params.load(ModelParams, raw),
        params.load(params.TrainParams, raw),
        params.load(params.AugmentParams, raw),
    )


def train_model(
    prepared: Prepared,
    split: dict[str, np.ndarray],
    model_params: ModelParams,
    train_params: params.TrainParams,
    augment_params: params.AugmentParams,
    live_dir: Path,
) -> keras.Model:
    """Fit, then build the saved model from the fitted network: what the train stage exports."""
    from emotions.training.train import trained_model

    model = trained_model(prepared, split, model_params, train_params, augment_params, live_dir)
    assert model is not None  # one process: it is the chief
    return model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained for a few epochs on shapes that stand in for emotions, once per test run."""
    from emotions.training.export import save_checked

    root = tmp_path_factory.mktemp("trained")
    prepared = prepare_source(make_dataset(root / "raw", per_class=12)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.2, 0.2, seed=0)
    model = train_model(prepared, split, *tiny_training(), root / "live")
    save_checked(model, META, root / "models", faces_of(prepared))
    assert (root / "live" / "metrics.json").exists()  # dvclive logged the run
    return root / "models"


TINY_SIZE = 16  # the side of the stand-in ONNX model's inputs


def assert_one_error_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {expected}"], result.stderr


def predict(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stages.predict", *map(str, args)], capture_output=True, text=True
    )


def tiny_model(model_dir: Path, seed: int = 0, classes: tuple[str, ...] = CLASSES) -> Path:
    """A stand-in ONNX model, no TensorFlow needed: images (N, 16, 16, 1) -> flatten -> one dense
    layer (weights drawn from ``seed``) -> softmax, with the meta.json predict reads."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = (
        np.random.default_rng(seed)
        .normal(size=(TINY_SIZE * TINY_SIZE, len(classes)))
        .astype(np.float32)
    )
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["images"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        "tiny",
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, ["n", TINY_SIZE, TINY_SIZE, 1]
            )
        ],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", len(classes)])],
        [numpy_helper.from_array(weights, "w")],
    )
    model_dir.mkdir(parents=True)
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
        model_dir / "model.onnx",
    )
    meta = {"classes": list(classes), "image_size": TINY_SIZE, "face_detect": False}
    (model_dir / "meta.json").write_text(json.dumps(meta))
    return model_dir


def plain_png(path: Path, width: int, height: int) -> Path:
    """A black 8-bit grayscale PNG of any size, written a band of rows at a time: a few MB on disk
    for hundreds of MB of pixels, and never whole in this process's memory."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    deflate = zlib.compressobj(1)
    band = bytes(width + 1) * 100  # each row: filter byte 0, then its pixels
    body = b"".join(
        deflate.compress(band[: (width + 1) * min(100, height - y)]) for y in range(0, height, 100)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", body + deflate.flush())
        + chunk(b"IEND", b"")
    )
    return path


PEAK_MB = (
    "int(next(line for line in open('/proc/self/status') if "
    "line.startswith('VmHWM')).split()[1]) // 1024"
)


def experiments(repo: Path) -> dict[str, dict]:
    """What ``dvc exp show`` lists of each experiment, by name: its params and metrics."""
    shown = json.loads(dvc(repo, "exp", "show", "--json", "--no-fetch"))
    return {
        rev["name"]: rev["data"]
        for entry in shown
        for experiment in entry.get("experiments") or []
        for rev in experiment["revs"]
        if rev.get("name")
    }


def dvc(repo: Path, *args: str) -> str:
    return run(repo, sys.executable, "-m", "dvc", *args)


def run(repo: Path, *args: str, timeout: float = 600) -> str:
    """Run a command in repo; its output goes to a file, not a pipe.

    DVC's queue forks helpers that outlive the command and inherit its stdout: on a pipe, reading
    to its end waits for them (forever, when a queue worker fails to shut down).
    """
    with tempfile.TemporaryFile("w+") as log:
        try:
            result = subprocess.run(
                args, cwd=repo, env=ENV, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            log.seek(0)
            pytest.fail(f"{' '.join(args)} did not finish in {timeout:.0f} s:\n{log.read()}")
        log.seek(0)
        output = log.read()
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{output}"
    return output


ENV = {
    **os.environ,
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def with_params(project: Path, **changes: object) -> None:
    write_params(project, changed(TINY_PARAMS, changes))


def stage(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"stages.{name}", *args], capture_output=True, text=True
    )
