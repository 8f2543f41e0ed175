"""The Keras file in the saved model's folder, written byte-identical for identical weights and read
back with the project's custom layers."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from emotions.files import atomic_path
from emotions.saved import bundle

if TYPE_CHECKING:  # keras is heavy: only the functions that need it import it
    import keras

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
SAVED_AT = "1980-01-01@00:00:00"  # in Keras' date_saved format


def _numbered(node: object, ids: dict[object, int]) -> object:
    """A Keras config with each ``shared_object_id`` (an ``id()``, a memory address) replaced by its
    order of first appearance: the same links between layers, the same text in every process."""
    if isinstance(node, dict):
        return {
            k: ids.setdefault(v, len(ids) + 1) if k == "shared_object_id" else _numbered(v, ids)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_numbered(v, ids) for v in node]
    return node


def save_keras(model: keras.Model, path: Path) -> None:
    """``model.save``, made byte-identical for identical weights: Keras stamps the time of saving
    into metadata.json and into the zip entries, and memory addresses into config.json, which would
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


def load_keras(model_dir: Path) -> keras.Model:
    import keras

    import emotions.training.layers  # noqa: F401  registers the custom layers a saved model may use

    path = model_dir / bundle.MODEL_FILE
    if not path.is_file():
        raise bundle.missing(path)
    return keras.models.load_model(
        path, compile=False
    )  # for inference: no loss or optimizer needed
