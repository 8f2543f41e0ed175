"""Train/validation/test split: the source's own parts where it names them, otherwise stratified and
seeded."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emotions.errors import UserError
from emotions.files import write_text

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
    """Indices of each part. A source with parts keeps them (validation comes from its training part
    when it has none); a source without is split stratified, every class keeping its share. Labels
    past ``classes`` (extra classes, learned from but never predicted) only train, and only from
    the training part."""
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
        parts = {part: np.flatnonzero((roles == part) & ~extra) for part in PARTS}
        if len(parts["val"]) == 0:
            parts.update(_carve(parts["train"], labels, classes, {"val": val_fraction}, rng))
    parts["train"] = np.union1d(
        parts["train"], np.flatnonzero(extra & np.isin(roles, ["train", ""]))
    )
    return parts


def save(parts: dict[str, np.ndarray], path: Path) -> None:
    write_text(path, json.dumps({part: parts[part].tolist() for part in PARTS}) + "\n")


def load(path: Path) -> dict[str, np.ndarray]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: split not found (run `dvc repro split` first)") from None
    return {part: np.asarray(raw[part], dtype=np.int64) for part in PARTS}
