"""Shared fixtures: tiny generated images and a params file, so unit tests run in milliseconds."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

TINY_PARAMS = {
    "data": {"source": "data/raw", "new": "data/new", "classes": ["angry", "happy", "sad"]},
    "sample": {"classes": ["angry", "happy", "sad"], "per_class": 12, "new_per_class": 1, "image_size": 32, "seed": 1},
    "prepare": {"image_size": 16, "on_bad_image": "skip"},
    "split": {"val_fraction": 0.2, "test_fraction": 0.2, "seed": 0},
    "model": {"conv1_filters": 4, "conv2_filters": 8, "kernel_size": 3, "dense_units": 8, "dropout": 0.0},
    "train": {"epochs": 1, "batch_size": 8, "learning_rate": 0.01, "seed": 0},
}


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
    return image


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
