"""Atomic outputs: written whole or not at all, named within the limits, errors in one line."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import numpy as np
import pytest

from emotions.errors import UserError
from emotions.files import atomic_dir, atomic_path, write_png, write_text


def test_atomic_dir_replaces_whole_folder_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out"
    (target).mkdir()
    (target / "old.txt").write_text("old")
    with atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_keeps_previous_output_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("boom")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_path_keeps_previous_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_outputs_get_ordinary_permissions(tmp_path: Path) -> None:
    write_text(tmp_path / "a.txt", "x")
    with atomic_dir(tmp_path / "d") as tmp:
        (tmp / "b.txt").write_text("y")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o777 & ~mask


def test_a_folder_that_cannot_be_written_is_one_user_error(tmp_path: Path) -> None:
    from emotions.errors import UserError

    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(
        UserError, match=r"/plain/models: cannot write \(part of its folder path is a file\)$"
    ):
        with atomic_dir(tmp_path / "plain" / "models"):
            pass
    with pytest.raises(UserError, match=r"/out/half: cannot write \(No space left on device\)$"):
        with atomic_dir(tmp_path / "out" / "half"):
            raise OSError(28, "No space left on device")
    assert list((tmp_path / "out").iterdir()) == []  # the temporary folder is gone


def test_a_png_on_a_full_disk_is_an_error_and_keeps_the_previous_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenCV's imwrite reports success when the disk is full; Python's writes raise."""
    target = tmp_path / "map.png"
    write_png(target, np.zeros((4, 4), np.uint8))
    before = target.read_bytes()

    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(
        UserError, match=f"^{re.escape(str(target))}: cannot write \\(No space left on device\\)$"
    ):
        write_png(target, np.full((4, 4), 255, np.uint8))
    monkeypatch.undo()
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["map.png"]


def test_a_legal_long_name_gets_a_short_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / (
        "x" * 246 + ".png"
    )  # 250 characters: the most most file systems take is 255
    write_png(target, np.zeros((4, 4), np.uint8))
    write_text(tmp_path / ("y" * 250), "text")
    with atomic_dir(tmp_path / ("z" * 250)) as folder:
        (folder / "a").write_text("a")
    assert sorted(len(p.name) for p in tmp_path.iterdir()) == [250, 250, 250]


def test_a_killed_runs_temporary_folders_are_removed_by_the_next(tmp_path: Path) -> None:
    target = tmp_path / "prepared"
    (tmp_path / ".prepared.k1ll3d").mkdir()  # what `kill -9` leaves of an earlier run
    (tmp_path / ".prepared.k1ll3d" / "faces-00000.npy").write_bytes(b"half")
    (tmp_path / ".other.abc").mkdir()  # another output's: not touched
    with atomic_dir(target) as folder:
        (folder / "meta.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.abc", "prepared"]
