"""Classifying new images with the trained model, and showing the results (of images and of videos'
sampled frames) to people and programs."""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotions.data.imaging import BadImage, Box, broken_link, is_image_file, listed, model_inputs, read_gray
from emotions.files import csv_text, write_png
from emotions.inference import runtime
from emotions.inference.figures import annotate
from emotions.model import bundle
from emotions.progress import progress

BATCH_SIZE = 256
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv"})


@dataclass(frozen=True)
class Prediction:
    """One image's (or, with face detection, one face's) top label and every class's probability,
    or why there is none; in a video, one face in one sampled frame: its time and its face id too."""

    path: str
    label: str | None = None
    probabilities: dict[str, float] | None = None
    error: str | None = None
    box: Box | None = None
    time: float | None = None  # seconds from the video's start
    face: int | None = None  # the same id while the same face stays in view


@dataclass(frozen=True)
class FaceSummary:
    """One face of a video: when it was seen, and the share of its sampled frames (so of the time it
    was seen) in each emotion."""

    path: str
    face: int
    samples: int
    first: float
    last: float
    shares: dict[str, float]


def classified(
    path: str, row: np.ndarray, classes: Sequence[str], box: Box | None = None, time: float | None = None, face: int | None = None
) -> Prediction:
    """The prediction of one row of class probabilities: the top label and every class's probability."""
    probabilities = {name: float(p) for name, p in zip(classes, row, strict=True)}
    return Prediction(path, classes[int(np.argmax(row))], probabilities, box=box, time=time, face=face)


def is_video_file(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def _found(path: Path) -> tuple[Path, str | None]:
    """A file listed in a folder or matched by a pattern; a link that leads nowhere is named as one
    rather than left out."""
    return path, broken_link(path)


def expand_inputs(items: Sequence[str]) -> list[tuple[Path, str | None]]:
    """Files, folders (searched recursively for images and videos) and glob patterns, each with an error or None."""
    found: list[tuple[Path, str | None]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if listed(p) and (is_image_file(p) or is_video_file(p)))
            found += [_found(p) for p in files] or [(path, "folder has no images or videos")]
        elif path.exists() or path.is_symlink():
            found.append(_found(path))
        elif glob.has_magic(item):
            matches = sorted(p for p in map(Path, glob.glob(item, recursive=True)) if listed(p))
            found += [_found(p) for p in matches] or [(path, "pattern matches no file")]
        else:
            found.append((path, "no such file or folder"))
    return found


class Predictor:
    """The trained model with the exact preprocessing that prepare applied to its training data."""

    def __init__(self, model_dir: Path, threads: int = runtime.THREADS) -> None:
        self.meta = bundle.read_meta(model_dir)
        self._model = runtime.load(model_dir, threads)

    @property
    def temperature(self) -> float:
        """The one the model's probabilities are calibrated with (1: not calibrated)."""
        return self._model.temperature

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
            results.append(classified(slot[0], next(probs), classes, box=slot[1]))
        return results


def unique_stem(path: str, used: set[str]) -> str:
    """The file's name without its suffix, with ``_`` added until it is not in ``used`` (then added to
    it): two inputs of one name in different folders get two output files."""
    name = Path(path).stem
    while name in used:
        name += "_"
    used.add(name)
    return name


def faces_by_file(predictions: Sequence[Prediction], videos: bool = False) -> dict[str, list[Prediction]]:
    """The classified faces of each image (or, with ``videos``, of each video), files and faces in input order."""
    by_file: dict[str, list[Prediction]] = {}
    for p in predictions:
        if p.label is not None and (p.time is not None) == videos:
            by_file.setdefault(p.path, []).append(p)
    return by_file


def write_annotated(predictions: Sequence[Prediction], out_dir: Path) -> list[Path]:
    """A copy of each predicted image with its faces' boxes and labels drawn on, named after it
    (videos are drawn by emotions.inference.video)."""
    written: list[Path] = []
    used: set[str] = set()
    for path, faces in faces_by_file(predictions).items():
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            continue
        target = out_dir / f"{unique_stem(path, used)}.png"
        write_png(
            target, annotate(image, [(f.box, f.label, f.probabilities[f.label]) for f in faces if f.label and f.probabilities])
        )
        written.append(target)
    return written


def counted(predictions: Sequence[Prediction]) -> str:
    """How many images were classified, and how many faces in video frames if any: for messages."""
    faces = sum(p.label is not None and p.time is not None for p in predictions)
    images = sum(p.label is not None and p.time is None for p in predictions)
    return f"{images} images" + (f" and {faces} faces in video frames" if faces else "")


def summarise(predictions: Sequence[Prediction]) -> list[FaceSummary]:
    """A summary of each face of each video, in order of appearance; shares of every class."""
    faces: dict[tuple[str, int], list[Prediction]] = {}
    for p in predictions:
        if p.face is not None and p.label is not None:
            faces.setdefault((p.path, p.face), []).append(p)
    return [
        FaceSummary(
            path,
            face,
            len(rows),
            rows[0].time or 0.0,
            rows[-1].time or 0.0,
            {c: sum(r.label == c for r in rows) / len(rows) for c in rows[0].probabilities or ()},
        )
        for (path, face), rows in faces.items()
    ]


def as_summary(predictions: Sequence[Prediction]) -> str:
    """For people, after the table: one line per face of each video (empty without videos)."""
    return "\n".join(
        f"{s.path} face {s.face}: {s.samples} frames from {s.first:.2f} s to {s.last:.2f} s, "
        + ", ".join(f"{c} {share:.0%}" for c, share in sorted(s.shares.items(), key=lambda item: -item[1]))
        for s in summarise(predictions)
    )


def as_json(predictions: Sequence[Prediction]) -> str:
    """A list of rows, one per image or face; a video's rows carry their time and face id, and are
    followed by one summary per face (path, face, samples, first, last, shares)."""
    summaries: dict[str, list[FaceSummary]] = {}
    for s in summarise(predictions):
        summaries.setdefault(s.path, []).append(s)
    last = {p.path: i for i, p in enumerate(predictions)}
    rows = []
    for i, p in enumerate(predictions):
        row: dict[str, object] = {"path": p.path}
        if p.time is not None:
            row.update(time=round(p.time, 3), face=p.face)
        if p.error:
            row["error"] = p.error
        else:
            row.update(label=p.label, probabilities=p.probabilities)
        if p.box is not None:
            row["box"] = list(p.box)
        rows.append(row)
        if last[p.path] == i:
            rows += [
                {
                    "path": s.path,
                    "face": s.face,
                    "samples": s.samples,
                    "first": round(s.first, 3),
                    "last": round(s.last, 3),
                    "shares": {c: round(share, 4) for c, share in s.shares.items()},
                }
                for s in summaries.get(p.path, [])
            ]
    return json.dumps(rows, indent=2)


def as_csv(predictions: Sequence[Prediction], classes: Sequence[str]) -> str:
    """One row per image or face; with videos among them, each row's time and face id too."""
    videos = any(p.time is not None for p in predictions)
    rows = []
    for p in predictions:
        probs = [f"{p.probabilities[c]:.4f}" for c in classes] if p.probabilities else [""] * len(classes)
        box = " ".join(map(str, p.box)) if p.box else ""
        when = ([f"{p.time:.3f}", str(p.face)] if p.time is not None else ["", ""]) if videos else []
        rows.append([p.path, *when, p.label or "", *probs, box, p.error or ""])
    return csv_text(["path", *(["time", "face"] if videos else []), "label", *classes, "box", "error"], rows)


def as_table(predictions: Sequence[Prediction], classes: Sequence[str]) -> str:
    """A table for people: one row per image (or face, with its box), the top emotion and every
    class's probability; with videos among them, each row's time (seconds) and face id too."""

    def name(p: Prediction) -> str:
        return p.path if p.box is None else f"{p.path} [{p.box[0]},{p.box[1]} {p.box[2]}x{p.box[3]}]"

    def when(p: Prediction) -> str:
        if not videos:
            return ""
        return f"{p.time:>8.3f}  {p.face:>4}  " if p.time is not None else " " * 16

    videos = any(p.time is not None for p in predictions)
    width = max([len("image"), *(len(name(p)) for p in predictions)])
    label_width = max(len("emotion"), *(len(c) for c in classes))
    columns = [max(len(c), 6) for c in classes]
    lines = [
        f"{'image':<{width}}  {'    time  face  ' if videos else ''}{'emotion':<{label_width}}  "
        + "  ".join(f"{c:>{w}}" for c, w in zip(classes, columns, strict=True))
    ]
    for p in predictions:
        if p.probabilities is None:
            lines.append(f"{name(p):<{width}}  {when(p)}error: {p.error}")
            continue
        cells = "  ".join(f"{p.probabilities[c]:>{w}.3f}" for c, w in zip(classes, columns, strict=True))
        lines.append(f"{name(p):<{width}}  {when(p)}{p.label:<{label_width}}  {cells}")
    return "\n".join(lines)
