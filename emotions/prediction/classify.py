"""Classifying images and videos with the saved model, in input order, failures included."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emotions.data.imaging import BadImage, Box, model_inputs, read_image
from emotions.prediction.inputs import is_video_file
from emotions.prediction.results import Prediction, classified
from emotions.prediction.video import DEFAULT_FPS, predict_video
from emotions.progress import progress
from emotions.saved.runtime import BATCH_SIZE, Predictor


def predict_images(
    predictor: Predictor, inputs: Sequence[tuple[Path, str | None]]
) -> list[Prediction]:
    """One result per image, or per face with face detection, in input order; failures included.
    Faces are classified ``BATCH_SIZE`` at a time as they are read, so memory holds one batch of
    pixels however many images there are."""
    results: list[Prediction] = []
    pending: list[tuple[int, str, Box | None]] = []  # a result still to classify: where, file, box
    faces: list[np.ndarray] = []

    def classify() -> None:
        rows = predictor.probabilities(np.stack(faces))
        for (at, path, box), row in zip(pending, rows, strict=True):
            results[at] = classified(path, row, predictor.meta.classes, box=box)
        pending.clear()
        faces.clear()

    for path, error in progress(inputs, "reading", unit="img"):
        found = []
        if error is None:
            try:
                image = read_image(path, predictor.meta.color)
                found = model_inputs(image, predictor.meta.image_size, predictor.meta.face_detect)
                error = None if found else "no face found"
            except BadImage as err:
                error = str(err)
        if error is not None:
            results.append(Prediction(str(path), error=error))
        for box, face in found:
            pending.append((len(results), str(path), box))
            results.append(Prediction(str(path)))  # a place, filled when its batch is classified
            faces.append(face)
        if len(faces) >= BATCH_SIZE:
            classify()
    if faces:
        classify()
    return results


def predict_all(
    predictor: Predictor, inputs: Sequence[tuple[Path, str | None]], fps: float = DEFAULT_FPS
) -> list[Prediction]:
    """Images as ``predict_images`` classifies them, videos (known by their extension) ``fps``
    frames a second (above 0); the results in input order."""
    results: list[Prediction] = []
    for videos, group in itertools.groupby(
        inputs, key=lambda item: item[1] is None and is_video_file(item[0])
    ):
        if videos:
            for path, _ in group:
                results += predict_video(predictor, path, fps)
        else:
            results += predict_images(predictor, list(group))
    return results
