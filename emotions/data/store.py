"""The prepared data set on disk: what prepare writes and split, train and evaluate read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotions.data.encoding import Encoding
from emotions.errors import UserError
from emotions.files import atomic_dir

IMAGES_FILE = "images.npy"
LABELS_FILE = "labels.npy"
PARTS_FILE = "parts.npy"
VOTES_FILE = "votes.npy"
META_FILE = "meta.json"


@dataclass(frozen=True)
class Prepared:
    """Preprocessed images (N, size, size) in [0, 1], class indices, each image's part role
    ("train", "val", "test"; "" where the source named no parts), and how they were encoded, which
    the trained model keeps. Labels index ``all_classes``: the classes the model predicts, then the
    extra ones it only learns from."""

    images: np.ndarray
    labels: np.ndarray
    parts: np.ndarray
    encoding: Encoding
    extra_classes: tuple[str, ...] = ()
    votes: np.ndarray | None = None  # (N, all classes) crowd votes, where the source has them

    @property
    def classes(self) -> tuple[str, ...]:
        return self.encoding.classes

    @property
    def image_size(self) -> int:
        return self.encoding.image_size

    @property
    def all_classes(self) -> tuple[str, ...]:
        return self.classes + self.extra_classes


def save(prepared: Prepared, out_dir: Path, texts: Mapping[str, str]) -> None:
    """Write the arrays, their metadata and the given text files as one folder, atomically."""
    with atomic_dir(out_dir) as tmp:
        np.save(tmp / IMAGES_FILE, prepared.images)
        np.save(tmp / LABELS_FILE, prepared.labels)
        np.save(tmp / PARTS_FILE, prepared.parts)
        if prepared.votes is not None:
            np.save(tmp / VOTES_FILE, prepared.votes)
        meta = {**prepared.encoding.as_json(), "extra_classes": list(prepared.extra_classes)}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")


def load(prepared_dir: Path) -> Prepared:
    """The prepared data set written by ``save``; missing files point the user at ``dvc repro``."""
    try:
        meta = json.loads((prepared_dir / META_FILE).read_text(encoding="utf-8"))
        images = np.load(prepared_dir / IMAGES_FILE)
        labels = np.load(prepared_dir / LABELS_FILE)
        parts = np.load(prepared_dir / PARTS_FILE)
    except FileNotFoundError as err:
        raise UserError(
            f"{err.filename}: prepared data not found (run `dvc repro prepare` first)"
        ) from None
    votes = np.load(prepared_dir / VOTES_FILE) if (prepared_dir / VOTES_FILE).exists() else None
    return Prepared(
        images, labels, parts, Encoding.from_json(meta), tuple(meta["extra_classes"]), votes
    )
