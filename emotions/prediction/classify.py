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
from emotions.saved.runtime import Predictor


def predict_images(
    predictor: Predictor, inputs: Sequence[tuple[Path, str | None]]
) -> list[Prediction]:
    """One result per image, or per face with face detection, in input order; failures included."""
    slots: list[Prediction | tuple[str, Box | None]] = []
    images: list[np.ndarray] = []
    for path, error in progress(inputs, "reading", unit="img"):
        faces = []
        if error is None:
            try:
                faces = model_inputs(
                    read_image(path, predictor.meta.color),
                    predictor.meta.image_size,
                    predictor.meta.face_detect,
                )
                error = None if faces else "no face found"
            except BadImage as err:
                error = str(err)
        if error is not None:
            slots.append(Prediction(str(path), error=error))
        for box, image in faces:
            slots.append((str(path), box))
            images.append(image)
    probs = iter(predictor.probabilities(np.stack(images)) if images else [])
    classes = predictor.meta.classes
    results = []
    for slot in slots:
        if isinstance(slot, Prediction):
            results.append(slot)
            continue
        results.append(classified(slot[0], next(probs), classes, box=slot[1]))
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
