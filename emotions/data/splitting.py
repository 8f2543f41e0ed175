"""Train/validation/test split: the source's own parts where it names them, otherwise stratified and
seeded."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emotions.data.hygiene import ROLES, TRAIN
from emotions.errors import UserError
from emotions.files import atomic_path

PARTS = ("train", "val", "test")


def _carve(
    pool: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    fractions: dict[str, float],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Take each fraction of every class from ``pool`` (at least one image each); the rest is
    "train"."""
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in (*fractions, "train")}
    for index, name in enumerate(classes):
        members = pool[labels[pool] == index]
        rng.shuffle(members)
        start = 0
        for part, fraction in fractions.items():
            take = max(1, round(len(members) * fraction))
            chunks[part].append(members[start : start + take])
            start += take
        if start >= len(members):
            raise UserError(
                f"split: class {name!r} has {len(members)} images, too few for a "
                "train, validation and test part"
            )
        chunks["train"].append(members[start:])
    return {part: np.sort(np.concatenate(c)) for part, c in chunks.items()}


def split(
    labels: np.ndarray,
    roles: np.ndarray,
    classes: Sequence[str],
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> dict[str, np.ndarray]:
    """Indices of each part; ``roles`` are codes of ``hygiene.ROLES``. A source with parts keeps
    them (validation comes from its training part when it has none); a source without is split
    stratified, every class keeping its share. Labels past ``classes`` (extra classes, learned from
    but never predicted) only train, and only from the training part."""
    rng = np.random.default_rng(seed)
    extra = labels >= len(classes)
    if not roles.any():
        parts = _carve(
            np.flatnonzero(~extra),
            labels,
            classes,
            {"test": test_fraction, "val": val_fraction},
            rng,
        )
    else:
        parts = {part: np.flatnonzero((roles == ROLES.index(part)) & ~extra) for part in PARTS}
        if len(parts["val"]) == 0:
            parts.update(_carve(parts["train"], labels, classes, {"val": val_fraction}, rng))
    parts["train"] = np.union1d(parts["train"], np.flatnonzero(extra & (roles <= TRAIN)))
    return parts


def save(parts: dict[str, np.ndarray], path: Path) -> None:
    """The indices as int32 arrays in one ``.npz``: 4 bytes a face, where JSON's list held a
    Python integer each in memory."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez(
            f,
            train=parts["train"].astype(np.int32),
            val=parts["val"].astype(np.int32),
            test=parts["test"].astype(np.int32),
        )


def load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as saved:
            return {part: saved[part] for part in PARTS}
    except FileNotFoundError:
        raise UserError(f"{path}: split not found (run `dvc repro split` first)") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: damaged split ({err}; rerun `dvc repro split`)") from None
