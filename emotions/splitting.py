"""Stratified, seeded train/validation/test split of the prepared data set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from emotions.errors import UserError
from emotions.files import write_text

PARTS = ("train", "val", "test")


def stratified_split(
    labels: np.ndarray, classes: Sequence[str], val_fraction: float, test_fraction: float, seed: int
) -> dict[str, np.ndarray]:
    """Indices of each part; every class keeps its share in each part, at least one image in each."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {part: [] for part in PARTS}
    for index, name in enumerate(classes):
        members = np.flatnonzero(labels == index)
        rng.shuffle(members)
        n_test = max(1, round(len(members) * test_fraction))
        n_val = max(1, round(len(members) * val_fraction))
        if len(members) - n_test - n_val < 1:
            raise UserError(
                f"split: class {name!r} has {len(members)} images, too few for a train, validation and test part"
            )
        parts["test"].append(members[:n_test])
        parts["val"].append(members[n_test : n_test + n_val])
        parts["train"].append(members[n_test + n_val :])
    return {part: np.sort(np.concatenate(chunks)) for part, chunks in parts.items()}


def save(split: dict[str, np.ndarray], path: Path) -> None:
    write_text(path, json.dumps({part: split[part].tolist() for part in PARTS}) + "\n")


def load(path: Path) -> dict[str, np.ndarray]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: split not found (run `dvc repro split` first)") from None
    return {part: np.asarray(raw[part], dtype=np.int64) for part in PARTS}
