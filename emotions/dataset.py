"""The raw data set (one sub-folder per class) and the prepared arrays built from it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from emotions.errors import UserError
from emotions.files import atomic_dir
from emotions.imaging import BadImage, is_image_file, load_image

IMAGES_FILE = "images.npy"
LABELS_FILE = "labels.npy"
META_FILE = "meta.json"
MANIFEST_FILE = "manifest.csv"


@dataclass(frozen=True)
class ManifestRow:
    path: str
    label: str
    status: str  # "used" or "skipped"
    reason: str = ""


@dataclass(frozen=True)
class Prepared:
    """Preprocessed images (N, size, size) in [0, 1], their class indices, and the class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]

    @property
    def image_size(self) -> int:
        return int(self.images.shape[1])


def _visible_files(folder: Path) -> list[Path]:
    """Every non-hidden file below ``folder``, in a stable order (determinism needs sorted listings)."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def class_files(source: Path, classes: Sequence[str]) -> dict[str, list[Path]]:
    """The files of each class folder; a missing source, class folder or empty class is a user error."""
    if not source.exists():
        raise UserError(f"{source}: raw data folder not found (set data.source in params.yaml)")
    if not source.is_dir():
        raise UserError(f"{source}: raw data source must be a folder with one sub-folder per class")
    found = sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: dict[str, list[Path]] = {}
    for name in classes:
        folder = source / name
        if not folder.is_dir():
            raise UserError(
                f"{folder}: no folder for class {name!r} of data.classes (sub-folders found: {', '.join(found) or 'none'})"
            )
        files[name] = _visible_files(folder)
        if not files[name]:
            raise UserError(f"{folder}: class folder {name!r} is empty")
    return files


def prepare(source: Path, classes: Sequence[str], image_size: int, skip_bad: bool) -> tuple[Prepared, list[ManifestRow]]:
    """Load and preprocess every file of every class; bad files are skipped (and listed) or fatal."""
    images: list[np.ndarray] = []
    labels: list[int] = []
    rows: list[ManifestRow] = []
    for index, (name, paths) in enumerate(class_files(source, classes).items()):
        used = 0
        for path in paths:
            try:
                if not is_image_file(path):
                    raise BadImage(f"not an image file ({path.suffix or 'no suffix'})")
                images.append(load_image(path, image_size))
            except BadImage as err:
                if not skip_bad:
                    raise UserError(f"{path}: {err} (prepare.on_bad_image is 'error')") from None
                rows.append(ManifestRow(str(path), name, "skipped", str(err)))
                continue
            labels.append(index)
            rows.append(ManifestRow(str(path), name, "used"))
            used += 1
        if not used:
            raise UserError(f"{source / name}: class folder {name!r} has no readable image")
    prepared = Prepared(
        images=np.stack(images).astype(np.float32),
        labels=np.asarray(labels, dtype=np.int64),
        classes=tuple(classes),
    )
    return prepared, rows


def _manifest_csv(rows: Sequence[ManifestRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "class", "status", "reason"])
    writer.writerows([r.path, r.label, r.status, r.reason] for r in rows)
    return buffer.getvalue()


def save(prepared: Prepared, rows: Sequence[ManifestRow], out_dir: Path) -> None:
    """Write the arrays, their metadata and the manifest as one folder, atomically."""
    with atomic_dir(out_dir) as tmp:
        np.save(tmp / IMAGES_FILE, prepared.images)
        np.save(tmp / LABELS_FILE, prepared.labels)
        counts = np.bincount(prepared.labels, minlength=len(prepared.classes))
        meta = {
            "classes": list(prepared.classes),
            "image_size": prepared.image_size,
            "counts": {c: int(n) for c, n in zip(prepared.classes, counts)},
            "skipped": sum(r.status == "skipped" for r in rows),
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (tmp / MANIFEST_FILE).write_text(_manifest_csv(rows), encoding="utf-8")


def load(prepared_dir: Path) -> Prepared:
    """The prepared data set written by ``save``; missing files point the user at ``dvc repro``."""
    try:
        meta = json.loads((prepared_dir / META_FILE).read_text(encoding="utf-8"))
        images = np.load(prepared_dir / IMAGES_FILE)
        labels = np.load(prepared_dir / LABELS_FILE)
    except FileNotFoundError as err:
        raise UserError(f"{err.filename}: prepared data not found (run `dvc repro prepare` first)") from None
    return Prepared(images=images, labels=labels, classes=tuple(meta["classes"]))
