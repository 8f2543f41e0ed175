"""Pictures of predictions: annotated copies of the images, and heat maps of what drove each face's
label. Each named after its image, so that two outputs never share a name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2

from emotions.data.imaging import BadImage, crop, model_inputs, read_image
from emotions.drawing import heat_overlay
from emotions.errors import UserError
from emotions.files import write_png
from emotions.prediction.drawing import annotate
from emotions.prediction.results import Prediction, faces_by_file
from emotions.saved.occlusion import occlusion_map
from emotions.saved.runtime import Predictor


def unique_stem(path: str, used: set[str]) -> str:
    """The file's name without its suffix, with ``_`` added until it is not in ``used`` (then added
    to it): two inputs of one name in different folders get two output files."""
    name = Path(path).stem
    while name in used:
        name += "_"
    used.add(name)
    return name


def write_annotated(predictions: Sequence[Prediction], out_dir: Path) -> list[Path]:
    """A copy of each predicted image with its faces' boxes and labels drawn on, named after it
    (videos are drawn by emotions.prediction.video)."""
    written: list[Path] = []
    used: set[str] = set()
    for path, faces in faces_by_file(predictions).items():
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            continue
        target = out_dir / f"{unique_stem(path, used)}.png"
        write_png(
            target,
            annotate(
                image,
                [
                    (f.box, f.label, f.probabilities[f.label])
                    for f in faces
                    if f.label and f.probabilities
                ],
            ),
        )
        written.append(target)
    return written


def write_explained(
    predictor: Predictor, predictions: Sequence[Prediction], out_dir: Path
) -> list[Path]:
    """For each classified face, the heat map of what drove its label laid over the face as the
    image shows it, in ``out_dir``: ``<image>.png``, or ``<image>_<n>.png`` (n from 1, in the order
    of the predictions) for an image with several faces."""
    meta = predictor.meta
    groups = faces_by_file(predictions)
    used: set[str] = set()
    names = iter(
        [
            stem if len(faces) == 1 else f"{stem}_{n}"
            for path, faces in groups.items()
            for stem in [unique_stem(path, used)]
            for n in range(1, len(faces) + 1)
        ]
    )
    written: list[Path] = []
    for path, faces in groups.items():
        try:  # read again: predictions keep labels, not pixels
            picture = read_image(Path(path), meta.color)
        except BadImage as err:
            raise UserError(f"{path}: changed while predict read it ({err})") from None
        inputs = model_inputs(picture, meta.image_size, meta.face_detect)
        if len(inputs) != len(faces):
            raise UserError(
                f"{path}: changed while predict read it ({len(inputs)} faces now, {len(faces)} "
                "before)"
            )
        for face, (box, model_input) in zip(faces, inputs, strict=True):
            assert face.label is not None  # faces_by_file keeps classified faces only
            heat = occlusion_map(
                predictor.probabilities, model_input, meta.classes.index(face.label)
            )
            target = out_dir / f"{next(names)}.png"
            shown = picture if box is None else crop(picture, box)
            write_png(target, heat_overlay(shown, heat))
            written.append(target)
    return written
