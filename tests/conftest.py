"""Shared fixtures: tiny generated images and a params file, so unit tests run in milliseconds."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from emotions.data import preparation
from emotions.data.sources import SourceSpec, read_source
from emotions.params import PrepareParams

ROOT = Path(__file__).resolve().parent.parent

TINY_PARAMS = {
    "data": {
        "source": "data/raw",
        "format": "auto",
        "new": "data/new",
        "classes": ["angry", "happy", "sad"],
        "extra_classes": [],
        "aliases": {"anger": "angry"},
        "csv_emotions": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        "votes": "none",
    },
    "sample": {"per_class": 12, "new_per_class": 1, "image_size": 32, "seed": 1},
    "prepare": {"image_size": 16, "on_bad_image": "skip", "min_std": 2.0, "dedupe": True, "face_detect": False},
    "split": {"val_fraction": 0.2, "test_fraction": 0.2, "seed": 0},
    "model": {
        "architecture": "reference",
        "reference": {"conv1_filters": 4, "conv2_filters": 8, "kernel_size": 3, "dense_units": 8, "dropout": 0.0},
        "vgg": {"width": 4, "convs": [1, 1], "dense_units": 8, "dropout": 0.0},
        "tta_flip": False,
        "tta_shift": 0,
    },
    "train": {
        "epochs": 1,
        "batch_size": 8,
        "learning_rate": 0.01,
        "seed": 0,
        "augment": False,
        "class_weights": False,
        "early_stopping": 0,
        "lr_schedule": "constant",
        "weight_decay": 0.0,
        "label_smoothing": 0.0,
        "precision": "float32",
        "onednn": "auto",
        "target": "label",
        "low_res_size": 0,
        "low_res_epochs": 0,
        "calibrate": True,
    },
    "augment": {"flip": True, "shift": 0.1, "rotation": 10, "zoom": 0.1, "brightness": 0.1, "contrast": 0.2},
    "evaluate": {"sets": {}},
}


def changed(raw: dict, changes: dict[str, object]) -> dict:
    """A deep copy of params ``raw`` with dotted keys set (``model.vgg.width``); None deletes a key."""
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
    image[0, 0], image[0, 1] = seed % 256, seed // 256  # every seed a distinct image: no accidental duplicates
    return image


def drawn_face(size: int = 200) -> np.ndarray:
    """A face-like drawing the Haar cascade finds: light oval, dark eyes and brows, a mouth."""
    image = np.full((size, size), 30, np.uint8)
    c, r = size // 2, size // 3
    cv2.ellipse(image, (c, c), (r, int(r * 1.25)), 0, 0, 360, 200, -1)
    for dx in (-r // 2, r // 2):
        cv2.ellipse(image, (c + dx, c - r // 4), (r // 5, r // 9), 0, 0, 360, 40, -1)
        cv2.line(image, (c + dx - r // 4, c - r // 2), (c + dx + r // 4, c - r // 2), 60, max(2, r // 12))
    cv2.line(image, (c, c - r // 8), (c, c + r // 4), 140, 2)
    cv2.ellipse(image, (c, c + r // 2), (r // 3, r // 8), 0, 0, 180, 60, -1)
    return cv2.GaussianBlur(image, (5, 5), 0)


def write_image(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image), path
    return path


def make_dataset(root: Path, classes: tuple[str, ...] = ("angry", "happy", "sad"), per_class: int = 6) -> Path:
    """A raw data set with one sub-folder per class, each image distinct."""
    for index, name in enumerate(classes):
        for i in range(per_class):
            write_image(root / name / f"{name}_{i}.png", shape_image(index, seed=i))
    return root


CLASSES = ("angry", "happy", "sad")


def spec(classes: tuple[str, ...] = CLASSES, fmt: str = "auto") -> SourceSpec:
    return SourceSpec(classes, {"anger": "angry"}, tuple(TINY_PARAMS["data"]["csv_emotions"]), fmt)


def prepare_params(size: int = 16, **changes: object) -> PrepareParams:
    """Prepare's params for unit tests: every file read, no hygiene, no face detection, unless changed."""
    defaults = {"image_size": size, "on_bad_image": "skip", "min_std": 0.0, "dedupe": False, "face_detect": False}
    return PrepareParams(**{**defaults, **changes})  # type: ignore[arg-type]


def prepare_source(root: Path, classes: tuple[str, ...] = CLASSES, size: int = 16, **changes: object):
    """prepare() on a folder or CSV, as the prepare stage calls it."""
    return preparation.prepare(read_source(root, spec(classes)), classes, prepare_params(size, **changes))


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
