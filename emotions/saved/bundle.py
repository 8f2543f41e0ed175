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


def write_meta(encoding: Encoding, model_dir: Path) -> None:
    write_text(model_dir / META_FILE, json.dumps(encoding.as_json(), indent=2) + "\n")


def missing(path: Path) -> UserError:
    return UserError(f"{path}: trained model not found (run `dvc repro` first)")


def read_meta(model_dir: Path) -> Encoding:
    path = model_dir / META_FILE
    try:
        return Encoding.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise missing(path) from None
    except (ValueError, TypeError) as err:  # not JSON, not UTF-8, or a value of the wrong kind
        raise UserError(f"{path}: not a valid model description ({err}) {RETRAIN}") from None
    except KeyError as err:
        raise UserError(f"{path}: incomplete model description, no {err} {RETRAIN}") from None
