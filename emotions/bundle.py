"""The trained model on disk: the Keras file plus what predict needs to use it (classes, image size)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from emotions.errors import UserError
from emotions.files import atomic_path, write_text

if TYPE_CHECKING:  # keras is heavy: only the functions that need it import it
    import keras

MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"  # the same network exported; what evaluate and predict run
META_FILE = "meta.json"


@dataclass(frozen=True)
class ModelMeta:
    classes: tuple[str, ...]
    image_size: int
    face_detect: bool


def save(model: keras.Model, meta: ModelMeta, model_dir: Path) -> None:
    with atomic_path(model_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    write_text(
        model_dir / META_FILE,
        json.dumps(asdict(meta), indent=2) + "\n",
    )


def _missing(path: Path) -> UserError:
    return UserError(f"{path}: trained model not found (run `dvc repro` first)")


def read_meta(model_dir: Path) -> ModelMeta:
    path = model_dir / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _missing(path) from None
    return ModelMeta(tuple(raw["classes"]), int(raw["image_size"]), bool(raw["face_detect"]))


def onnx_path(model_dir: Path) -> Path:
    path = model_dir / ONNX_FILE
    if not path.is_file():
        raise _missing(path)
    return path


def load_keras(model_dir: Path) -> keras.Model:
    import keras

    import emotions.model  # noqa: F401  registers the custom layers a saved model may use

    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise _missing(path)
    return keras.models.load_model(path, compile=False)  # for inference: no loss or optimizer needed
