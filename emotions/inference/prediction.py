"""Classifying new images with the trained model, and showing the results to people and programs."""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotions.data.imaging import BadImage, Box, is_image_file, model_inputs, read_gray
from emotions.files import csv_text, write_png
from emotions.inference import runtime
from emotions.inference.figures import annotate
from emotions.model import bundle
from emotions.progress import progress

BATCH_SIZE = 256


@dataclass(frozen=True)
class Prediction:
    """One image's (or, with face detection, one face's) top label and every class's probability,
    or why there is none."""

    path: str
    label: str | None = None
    probabilities: dict[str, float] | None = None
    error: str | None = None
    box: Box | None = None


def expand_inputs(items: Sequence[str]) -> list[tuple[Path, str | None]]:
    """Files, folders (searched recursively for images) and glob patterns, each with an error or None."""
    found: list[tuple[Path, str | None]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            images = sorted(p for p in path.rglob("*") if p.is_file() and is_image_file(p))
            found += [(p, None) for p in images] or [(path, "folder has no images")]
        elif path.exists():
            found.append((path, None))
        elif glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file())
            found += [(p, None) for p in matches] or [(path, "pattern matches no file")]
        else:
            found.append((path, "no such file or folder"))
    return found


class Predictor:
    """The trained model with the exact preprocessing that prepare applied to its training data."""

    def __init__(self, model_dir: Path) -> None:
        self.meta = bundle.read_meta(model_dir)
        self._model = runtime.load(model_dir)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for preprocessed images of shape (N, size, size), in batches."""
        if not len(images):
            return np.zeros((0, len(self.meta.classes)), np.float32)
        return np.concatenate([self._model.probabilities(images[i : i + BATCH_SIZE]) for i in range(0, len(images), BATCH_SIZE)])

    def predict(self, inputs: Sequence[tuple[Path, str | None]]) -> list[Prediction]:
        """One result per image, or per face with face detection, in input order; failures included."""
        slots: list[Prediction | tuple[str, Box | None]] = []
        images: list[np.ndarray] = []
        for path, error in progress(inputs, "reading", unit="img"):
            faces = []
            if error is None:
                try:
                    faces = model_inputs(read_gray(path), self.meta.image_size, self.meta.face_detect)
                    error = None if faces else "no face found"
                except BadImage as err:
                    error = str(err)
            if error is not None:
                slots.append(Prediction(str(path), error=error))
            for box, image in faces:
                slots.append((str(path), box))
                images.append(image)
        probs = iter(self.probabilities(np.stack(images)) if images else [])
        classes = self.meta.classes
        results = []
        for slot in slots:
            if isinstance(slot, Prediction):
                results.append(slot)
                continue
            row = next(probs)
            results.append(
                Prediction(
                    slot[0],
                    label=classes[int(np.argmax(row))],
                    probabilities={name: float(p) for name, p in zip(classes, row, strict=True)},
                    box=slot[1],
                )
            )
        return results


def faces_by_image(predictions: Sequence[Prediction]) -> dict[str, list[Prediction]]:
    """The classified faces of each image, images and faces in input order."""
    by_image: dict[str, list[Prediction]] = {}
    for p in predictions:
        if p.label is not None:
            by_image.setdefault(p.path, []).append(p)
    return by_image


def unique_names(names: Sequence[str]) -> list[str]:
    """Output file names, a repeat made unique with trailing underscores (two folders may both hold face.png)."""
    used: set[str] = set()
    unique = []
    for name in names:
        while name in used:
            name += "_"
        used.add(name)
        unique.append(name)
    return unique


def write_annotated(predictions: Sequence[Prediction], out_dir: Path) -> list[Path]:
    """A copy of each predicted image with its faces' boxes and labels drawn on, named after it."""
    by_image = faces_by_image(predictions)
    written: list[Path] = []
    for (path, faces), name in zip(by_image.items(), unique_names([Path(p).stem for p in by_image]), strict=True):
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            continue
        target = out_dir / f"{name}.png"
        write_png(
            target, annotate(image, [(f.box, f.label, f.probabilities[f.label]) for f in faces if f.label and f.probabilities])
        )
        written.append(target)
    return written


def as_json(predictions: Sequence[Prediction]) -> str:
    rows = []
    for p in predictions:
        row: dict[str, object] = {"path": p.path}
        if p.error:
            row["error"] = p.error
        else:
            row.update(label=p.label, probabilities=p.probabilities)
        if p.box is not None:
            row["box"] = list(p.box)
        rows.append(row)
    return json.dumps(rows, indent=2)


def as_csv(predictions: Sequence[Prediction], classes: Sequence[str]) -> str:
    rows = []
    for p in predictions:
        probs = [f"{p.probabilities[c]:.4f}" for c in classes] if p.probabilities else [""] * len(classes)
        box = " ".join(map(str, p.box)) if p.box else ""
        rows.append([p.path, p.label or "", *probs, box, p.error or ""])
    return csv_text(["path", "label", *classes, "box", "error"], rows)


def as_table(predictions: Sequence[Prediction], classes: Sequence[str]) -> str:
    """A table for people: one row per image (or face, with its box), the top emotion and every
    class's probability."""

    def name(p: Prediction) -> str:
        return p.path if p.box is None else f"{p.path} [{p.box[0]},{p.box[1]} {p.box[2]}x{p.box[3]}]"

    width = max([len("image"), *(len(name(p)) for p in predictions)])
    label_width = max(len("emotion"), *(len(c) for c in classes))
    columns = [max(len(c), 6) for c in classes]
    lines = [
        f"{'image':<{width}}  {'emotion':<{label_width}}  "
        + "  ".join(f"{c:>{w}}" for c, w in zip(classes, columns, strict=True))
    ]
    for p in predictions:
        if p.probabilities is None:
            lines.append(f"{name(p):<{width}}  error: {p.error}")
            continue
        cells = "  ".join(f"{p.probabilities[c]:>{w}.3f}" for c, w in zip(classes, columns, strict=True))
        lines.append(f"{name(p):<{width}}  {p.label:<{label_width}}  {cells}")
    return "\n".join(lines)
