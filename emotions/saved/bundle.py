"""The saved model's folder: which files it holds, and meta.json, the prepared data's encoding
(classes, image size, face detection) that evaluate and predict need to use it."""

from __future__ import annotations

import json
from pathlib import Path

from emotions.data.encoding import Encoding
from emotions.errors import UserError
from emotions.files import write_text

MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"  # the same network exported; what evaluate and predict run
META_FILE = "meta.json"
RETRAIN = "(run `dvc repro` to retrain)"
MAX_META_BYTES = 1_000_000  # a description is a few hundred bytes
MIN_SIZE, MAX_SIZE = 8, 224  # the image sizes prepare makes


def write_meta(encoding: Encoding, model_dir: Path) -> None:
    write_text(model_dir / META_FILE, json.dumps(encoding.as_json(), indent=2) + "\n")


def check_faces(who: str, model: Encoding, data: Encoding, hint: str = "") -> None:
    """A model runs on faces of the size and colour it was trained on: ``who`` (the model, or the
    param that names it) is named if the prepared data holds others."""
    if (model.image_size, model.color) != (data.image_size, data.color):
        raise UserError(
            f"{who} takes {model.image_size}x{model.image_size} {model.color} faces, the prepared "
            f"data holds {data.image_size}x{data.image_size} {data.color} ones{hint}"
        )


def check_inputs(model_dir: Path, model: Encoding, data: Encoding, hint: str = "") -> None:
    """The prepared data must hold the model's classes, in its order, and its kind of faces."""
    if model.classes != data.classes:
        raise UserError(
            f"{model_dir}: model classes {model.classes} differ from the data's {data.classes}"
        )
    check_faces(f"{model_dir}: the model", model, data, hint)


def missing(path: Path) -> UserError:
    return UserError(f"{path}: trained model not found (run `dvc repro` first)")


def read_meta(model_dir: Path) -> Encoding:
    """The model's description, checked against sane bounds before any work: a meta.json from
    elsewhere (huge, deeply nested, of absurd sizes) is one error naming it, not a traceback or
    gigabytes of memory."""
    path = model_dir / META_FILE
    try:
        if path.stat().st_size > MAX_META_BYTES:
            raise ValueError(
                f"{path.stat().st_size} bytes, more than {MAX_META_BYTES} a description takes"
            )
        meta = Encoding.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise missing(path) from None
    except RecursionError:
        raise UserError(
            f"{path}: not a valid model description (nested too deep) {RETRAIN}"
        ) from None
    except (ValueError, TypeError) as err:  # not JSON, not UTF-8, or a value of the wrong kind
        raise UserError(f"{path}: not a valid model description ({err}) {RETRAIN}") from None
    except KeyError as err:
        raise UserError(f"{path}: incomplete model description, no {err} {RETRAIN}") from None
    problem = _implausible(meta)
    if problem:
        raise UserError(f"{path}: not a valid model description ({problem}) {RETRAIN}")
    return meta


def _implausible(meta: Encoding) -> str | None:
    if not MIN_SIZE <= meta.image_size <= MAX_SIZE:
        return f"image_size {meta.image_size} is not from {MIN_SIZE} to {MAX_SIZE}"
    if len(meta.classes) < 2 or not all(isinstance(c, str) and c for c in meta.classes):
        return "classes must be a list of at least two names"
    return None
