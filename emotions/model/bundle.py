"""The trained model on disk: the Keras file plus what predict needs to use it: the prepared data's
encoding (classes, image size, face detection) in meta.json."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from emotions.data.encoding import Encoding
from emotions.errors import UserError
from emotions.files import atomic_path, write_text

if TYPE_CHECKING:  # keras is heavy: only the functions that need it import it
    import keras

MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"  # the same network exported; what evaluate and predict run
META_FILE = "meta.json"
RETRAIN = "(run `dvc repro` to retrain)"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
SAVED_AT = "1980-01-01@00:00:00"  # in Keras' date_saved format


def _numbered(node: object, ids: dict[object, int]) -> object:
    """A Keras config with each ``shared_object_id`` (an ``id()``, a memory address) replaced by its
    order of first appearance: the same links between layers, the same text in every process."""
    if isinstance(node, dict):
        return {k: ids.setdefault(v, len(ids) + 1) if k == "shared_object_id" else _numbered(v, ids) for k, v in node.items()}
    if isinstance(node, list):
        return [_numbered(v, ids) for v in node]
    return node


def save_keras(model: keras.Model, path: Path) -> None:
    """``model.save``, made byte-identical for identical weights: Keras stamps the time of saving into
    metadata.json and into the zip entries, and memory addresses into config.json, which would
    change the file's hash on every run."""
    with atomic_path(path) as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp) as saved:
            entries = [(info, saved.read(info)) for info in saved.infolist()]
        with zipfile.ZipFile(tmp, "w") as out:
            for info, data in entries:
                if info.filename == "metadata.json":
                    data = json.dumps({**json.loads(data), "date_saved": SAVED_AT}).encode()
                elif info.filename == "config.json":
                    data = json.dumps(_numbered(json.loads(data), {})).encode()
                fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
                fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
                out.writestr(fixed, data)


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


def load_keras(model_dir: Path) -> keras.Model:
    import keras

    import emotions.model.layers  # noqa: F401  registers the custom layers a saved model may use

    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise missing(path)
    return keras.models.load_model(path, compile=False)  # for inference: no loss or optimizer needed
