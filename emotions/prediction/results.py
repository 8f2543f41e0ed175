"""What predict found: one row per image, or per face with face detection or in a video's frames,
and the summaries drawn from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emotions.data.imaging import Box


@dataclass(frozen=True)
class Prediction:
    """One image's (or, with face detection, one face's) top label and every class's probability,
    or why there is none; in a video, one face in one sampled frame: its time and its face id
    too."""

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
    path: str,
    row: np.ndarray,
    classes: Sequence[str],
    box: Box | None = None,
    time: float | None = None,
    face: int | None = None,
) -> Prediction:
    """The prediction of one row of class probabilities: the top label and every class's
    probability."""
    probabilities = {name: float(p) for name, p in zip(classes, row, strict=True)}
    return Prediction(
        path, classes[int(np.argmax(row))], probabilities, box=box, time=time, face=face
    )


def faces_by_file(
    predictions: Sequence[Prediction], videos: bool = False
) -> dict[str, list[Prediction]]:
    """The classified faces of each image (or, with ``videos``, of each video), files and faces in
    input order."""
    by_file: dict[str, list[Prediction]] = {}
    for p in predictions:
        if p.label is not None and (p.time is not None) == videos:
            by_file.setdefault(p.path, []).append(p)
    return by_file


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
