from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotions.data import preparation, store
from emotions.data.encoding import Encoding
from emotions.data.hygiene import ROLES
from emotions.errors import UserError
from tests.conftest import (
    CLASSES,
    PEAK_MB,
    ROOT,
    drawn_face,
    faces_of,
    make_dataset,
    prepare_source,
    shape_image,
    write_image,
)


def test_prepare_reads_every_class_in_params_order(raw_dataset: Path) -> None:
    result = prepare_source(raw_dataset, ("sad", "angry", "happy"))
    prepared, rows = result.prepared, result.manifest
    faces = faces_of(prepared)
    assert faces.shape == (18, 16, 16, 1) and faces.dtype == np.float32
    assert faces.max() == pytest.approx(220 / 255)  # 8-bit pixels scaled to [0, 1]: the shapes' ink
    assert prepared.classes == ("sad", "angry", "happy")
    assert np.bincount(prepared.labels).tolist() == [6, 6, 6]
    assert rows[0].label == "sad" and all(r.status == "used" for r in rows)
    assert not prepared.roles.any()


def test_bad_files_are_skipped_and_listed(raw_dataset: Path) -> None:
    (raw_dataset / "happy" / "notes.txt").write_text("hello")
    (raw_dataset / "sad" / "broken.png").write_bytes(b"\x89PNG not really")
    result = prepare_source(raw_dataset)
    prepared, rows, report = result.prepared, result.manifest, result.report
    assert len(prepared.labels) == 18
    skipped = {Path(r.path).name: r.reason for r in rows if r.status == "skipped"}
    assert skipped == {
        "notes.txt": "unreadable: not an image file (.txt)",
        "broken.png": "unreadable: not a readable image",
    }
    assert report["steps"][1] == {
        "step": "after removing unreadable",
        "removed": 2,
        "total": 18,
        "per_class": {"angry": 6, "happy": 6, "sad": 6},
    }


def test_bad_file_is_an_error_when_asked(raw_dataset: Path) -> None:
    (raw_dataset / "sad" / "broken.png").write_bytes(b"junk")
    with pytest.raises(
        UserError, match=r"broken.png: not a readable image \(prepare.on_bad_image is 'error'\)"
    ):
        prepare_source(raw_dataset, on_bad_image="error")


def test_class_without_a_usable_image_is_named(raw_dataset: Path) -> None:
    for path in (raw_dataset / "sad").iterdir():
        path.write_bytes(b"junk")
    with pytest.raises(UserError, match=r"class 'sad': no usable image left after prepare"):
        prepare_source(raw_dataset)


def test_hygiene_drops_blank_duplicate_conflicting_and_leaked_images(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "src" / "train", per_class=4)
    make_dataset(
        tmp_path / "src" / "test", per_class=2
    )  # test images 0 and 1 equal train images 0 and 1
    write_image(root / "happy" / "blank.png", np.full((24, 24), 128, np.uint8))
    write_image(
        root / "happy" / "zcopy.png", shape_image(1, seed=3)
    )  # duplicate of happy_3, same label
    write_image(
        root / "sad" / "mislabelled.png", shape_image(0, seed=2)
    )  # angry_2's pixels, labelled sad
    result = prepare_source(tmp_path / "src", min_std=2.0, dedupe=True)
    prepared, rows, report = result.prepared, result.manifest, result.report
    reasons = {"/".join(Path(r.path).parts[-3:]): r.reason for r in rows if r.reason}
    assert reasons == {
        "train/happy/blank.png": "near-blank",
        "train/happy/zcopy.png": "duplicate",
        "train/angry/angry_2.png": "conflicting labels",
        "train/sad/mislabelled.png": "conflicting labels",
        **{f"train/{c}/{c}_{i}.png": "also in a held-out part" for c in CLASSES for i in (0, 1)},
    }
    assert report["parts"] == {"train": "train", "test": "test"}
    assert report["final_per_part"] == {
        "test": {"angry": 2, "happy": 2, "sad": 2},
        "train": {"angry": 1, "happy": 2, "sad": 2},
    }
    assert [s["step"] for s in report["steps"]] == [
        "read",
        "after removing near-blank",
        "after removing duplicate",
        "after removing conflicting labels",
        "after removing also in a held-out part",
    ]
    assert (prepared.roles == ROLES.index("test")).sum() == 6


def test_conflicting_labels_across_parts_drop_every_copy(tmp_path: Path) -> None:
    make_dataset(tmp_path / "src" / "train", per_class=3)
    make_dataset(tmp_path / "src" / "test", per_class=1)
    write_image(
        tmp_path / "src" / "test" / "happy" / "relabelled.png", shape_image(0, seed=2)
    )  # train's angry_2
    result = prepare_source(tmp_path / "src", dedupe=True)
    prepared, rows = result.prepared, result.manifest
    conflicts = sorted(
        f"{Path(r.path).parent.parent.name}/{Path(r.path).name}"
        for r in rows
        if r.reason == "conflicting labels"
    )
    assert conflicts == ["test/relabelled.png", "train/angry_2.png"]
    assert len(prepared.labels) == 13 - 3 - 2  # and the three train copies of test images, as leaks


def test_face_detection_reports_images_without_a_face(raw_dataset: Path) -> None:
    for name in CLASSES:
        write_image(raw_dataset / name / "photo.png", drawn_face())
    result = prepare_source(raw_dataset, face_detect=True)
    prepared, rows, report = result.prepared, result.manifest, result.report
    assert len(prepared.labels) == 3 and prepared.encoding == Encoding(
        CLASSES, 16, face_detect=True
    )
    assert {Path(r.path).name for r in rows if r.status == "used"} == {"photo.png"}
    assert {r.reason for r in rows if r.status == "skipped"} == {
        "no face found"
    }  # the shapes are not faces
    assert report["steps"][-1] == {
        "step": "after removing no face found",
        "removed": 18,
        "total": 3,
        "per_class": {c: 1 for c in CLASSES},
    }


def test_save_and_load_round_trip(raw_dataset: Path, tmp_path: Path) -> None:
    (raw_dataset / "happy" / "notes.txt").write_text("hello")
    result = prepare_source(raw_dataset)
    prepared, report = result.prepared, result.report
    out = result.folder
    loaded = store.load(out)
    np.testing.assert_array_equal(faces_of(loaded), faces_of(prepared))
    np.testing.assert_array_equal(loaded.labels, prepared.labels)
    np.testing.assert_array_equal(loaded.roles, prepared.roles)
    assert loaded.encoding == Encoding(CLASSES, 16, face_detect=False)
    with (out / preparation.MANIFEST_FILE).open() as f:
        manifest = list(csv.DictReader(f))
    assert len(manifest) == 19 and [m["status"] for m in manifest].count("skipped") == 1
    assert json.loads((out / preparation.REPORT_FILE).read_text()) == report
    names = sorted(p.name for p in out.iterdir())  # no draft manifest or other leftover
    assert names == [
        "faces-00000.npy",
        "labels.npy",
        "manifest.csv",
        "meta.json",
        "report.json",
        "roles.npy",
        "rows.npy",
    ]
    assert loaded.labels.dtype == np.int16 and loaded.roles.dtype == np.int8  # bytes a face


def test_missing_prepared_data_points_at_dvc_repro(tmp_path: Path) -> None:
    with pytest.raises(
        UserError, match=r"meta.json: prepared data not found \(run `dvc repro prepare` first\)"
    ):
        store.load(tmp_path)


def test_bad_csv_rows_are_listed_and_never_make_a_part(tmp_path: Path) -> None:
    rows = [
        f"{e},{' '.join([str(40 + 60 * k + e)] * 2300 + [str(k)] * 4)},{part}"
        for k, part in enumerate(("Training", "PublicTest"))
        for e in (0, 3, 4)
    ]
    path = tmp_path / "fer.csv"
    path.write_text("\n".join(["emotion,pixels,Usage", *rows, "x,1 2,", "3,1 2 3", "", ""]) + "\n")
    result = prepare_source(path)
    prepared, manifest, report = result.prepared, result.manifest, result.report
    assert report["parts"] == {"Training": "train", "PublicTest": "test"}
    assert sorted(ROLES[r] for r in prepared.roles) == ["test"] * 3 + ["train"] * 3
    assert [(r.path, r.status, r.reason) for r in manifest[-2:]] == [
        (f"{path}:8", "skipped", "unreadable: emotion 'x' is not a number"),
        (f"{path}:9", "skipped", "unreadable: 2 fields, not 3 (emotion, pixels, usage)"),
    ]
    path.write_text("\n".join(["emotion,pixels,Usage", *rows[:3], "x,1 2,"]) + "\n")
    with pytest.raises(UserError, match=r"cannot tell train from test among parts \['Training'\]"):
        prepare_source(path)  # a bad row's empty part must not become the test set


def test_blank_check_of_a_large_image_makes_no_float_copy() -> None:
    """numpy's std would hold 8 bytes a pixel: 400 MB more for a 50-megapixel photo."""
    code = (
        "import numpy as np\n"
        "from emotions.data.hygiene import is_blank\n"
        "gray = np.full((5000, 10000), 7, np.uint8)\n"
        f"before = {PEAK_MB}\n"
        "assert is_blank(gray, 2.0) and not is_blank(np.eye(50, dtype=np.uint8) * 255, 2.0)\n"
        f"print({PEAK_MB} - before)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) < 50, f"{result.stdout.strip()} MB more"
