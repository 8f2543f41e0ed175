from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from emotions import dataset
from emotions.errors import UserError
from tests.conftest import make_dataset

CLASSES = ("angry", "happy", "sad")


def test_prepare_reads_every_class_in_params_order(raw_dataset: Path) -> None:
    prepared, rows = dataset.prepare(raw_dataset, ("sad", "angry", "happy"), 16, skip_bad=True)
    assert prepared.images.shape == (18, 16, 16) and prepared.images.dtype == np.float32
    assert 0.0 <= prepared.images.min() and prepared.images.max() <= 1.0
    assert prepared.classes == ("sad", "angry", "happy")
    assert np.bincount(prepared.labels).tolist() == [6, 6, 6]
    assert rows[0].label == "sad" and all(r.status == "used" for r in rows)


def test_bad_files_are_skipped_and_listed(raw_dataset: Path) -> None:
    (raw_dataset / "happy" / "notes.txt").write_text("hello")
    (raw_dataset / "sad" / "broken.png").write_bytes(b"\x89PNG not really")
    prepared, rows = dataset.prepare(raw_dataset, CLASSES, 16, skip_bad=True)
    assert len(prepared.labels) == 18
    skipped = {Path(r.path).name: r.reason for r in rows if r.status == "skipped"}
    assert skipped == {"notes.txt": "not an image file (.txt)", "broken.png": "not a readable image"}


def test_bad_file_is_an_error_when_asked(raw_dataset: Path) -> None:
    (raw_dataset / "sad" / "broken.png").write_bytes(b"junk")
    with pytest.raises(UserError, match=r"broken.png: not a readable image \(prepare.on_bad_image is 'error'\)"):
        dataset.prepare(raw_dataset, CLASSES, 16, skip_bad=False)


def test_missing_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nowhere: raw data folder not found"):
        dataset.prepare(tmp_path / "nowhere", CLASSES, 16, skip_bad=True)


def test_missing_class_folder_is_named(raw_dataset: Path) -> None:
    with pytest.raises(UserError, match=r"neutral: no folder for class 'neutral' of data.classes \(sub-folders found: angry, happy, sad\)"):
        dataset.prepare(raw_dataset, (*CLASSES, "neutral"), 16, skip_bad=True)


def test_empty_class_folder_is_named(raw_dataset: Path) -> None:
    shutil.rmtree(raw_dataset / "sad")
    (raw_dataset / "sad").mkdir()
    with pytest.raises(UserError, match=r"sad: class folder 'sad' is empty"):
        dataset.prepare(raw_dataset, CLASSES, 16, skip_bad=True)


def test_class_without_a_readable_image_is_named(raw_dataset: Path) -> None:
    for path in (raw_dataset / "sad").iterdir():
        path.write_bytes(b"junk")
    with pytest.raises(UserError, match=r"sad: class folder 'sad' has no readable image"):
        dataset.prepare(raw_dataset, CLASSES, 16, skip_bad=True)


def test_save_and_load_round_trip_with_manifest(raw_dataset: Path, tmp_path: Path) -> None:
    (raw_dataset / "happy" / "notes.txt").write_text("hello")
    prepared, rows = dataset.prepare(raw_dataset, CLASSES, 16, skip_bad=True)
    out = tmp_path / "prepared"
    dataset.save(prepared, rows, out)
    loaded = dataset.load(out)
    np.testing.assert_array_equal(loaded.images, prepared.images)
    np.testing.assert_array_equal(loaded.labels, prepared.labels)
    assert loaded.classes == CLASSES and loaded.image_size == 16
    with (out / dataset.MANIFEST_FILE).open() as f:
        manifest = list(csv.DictReader(f))
    assert len(manifest) == 19
    assert [m["status"] for m in manifest].count("skipped") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared", "raw"]  # no temporary leftovers


def test_missing_prepared_data_points_at_dvc_repro(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"meta.json: prepared data not found \(run `dvc repro prepare` first\)"):
        dataset.load(tmp_path)


def test_listing_is_sorted_and_ignores_hidden_files(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "raw", per_class=3)
    (root / "angry" / ".DS_Store").write_text("x")
    _, rows = dataset.prepare(root, CLASSES, 16, skip_bad=True)
    angry = [Path(r.path).name for r in rows if r.label == "angry"]
    assert angry == ["angry_0.png", "angry_1.png", "angry_2.png"]
