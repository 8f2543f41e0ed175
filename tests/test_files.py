from __future__ import annotations

import os
from pathlib import Path

import pytest

from emotions.files import atomic_dir, atomic_path, write_text


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
