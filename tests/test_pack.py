"""Packed sources: a folder tree packed into a few tar files reads as the same faces, in the same
order, with bad members listed and a bad archive named."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from emotions.data.pack import pack
from emotions.data.sources import read_source, source_format
from emotions.errors import UserError
from tests.conftest import (
    CLASSES,
    ROOT,
    faces_of,
    make_dataset,
    prepare_source,
    shape_image,
    spec,
    write_image,
)


def test_a_packed_tree_prepares_as_the_tree(tmp_path: Path) -> None:
    tree = make_dataset(tmp_path / "raw" / "train", per_class=5).parent
    make_dataset(tmp_path / "raw" / "test", per_class=2)
    (tree / "train" / "sad" / "notes.txt").write_text("not a face")
    (tree / "train" / ".hidden.png").write_bytes(b"")
    assert pack(tree, tmp_path / "packed", per_tar=8) == 22
    assert sorted(p.name for p in (tmp_path / "packed").iterdir()) == [
        "part-00000.tar",
        "part-00001.tar",
        "part-00002.tar",
    ]
    assert source_format(tmp_path / "packed", "auto") == "tar"
    folders, packed = prepare_source(tree), prepare_source(tmp_path / "packed")
    np.testing.assert_array_equal(faces_of(packed.prepared), faces_of(folders.prepared))
    np.testing.assert_array_equal(packed.prepared.labels, folders.prepared.labels)
    np.testing.assert_array_equal(packed.prepared.roles, folders.prepared.roles)
    skipped = [row for row in packed.manifest if row.status == "skipped"]
    assert [(Path(r.path.split(":")[-1]).name, r.reason) for r in skipped] == [
        ("notes.txt", "unreadable: not an image file (.txt)")
    ]


def test_packing_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    tree = make_dataset(tmp_path / "raw", per_class=3)
    pack(tree, tmp_path / "a")
    pack(tree, tmp_path / "b")
    assert (tmp_path / "a" / "part-00000.tar").read_bytes() == (
        tmp_path / "b" / "part-00000.tar"
    ).read_bytes()


def test_a_damaged_member_is_listed_and_the_rest_read(tmp_path: Path) -> None:
    tree = make_dataset(tmp_path / "raw", per_class=3)
    (tree / "happy" / "happy_0.png").write_bytes(b"\x89PNG broken")
    pack(tree, tmp_path / "packed")
    outcome = prepare_source(tmp_path / "packed")
    assert len(outcome.prepared.labels) == 8
    [row] = [r for r in outcome.manifest if r.status == "skipped"]
    assert row.path.endswith("part-00000.tar:happy/happy_0.png") and row.reason.startswith(
        "unreadable"
    )


def test_a_bad_archive_or_a_missing_class_is_one_error(tmp_path: Path) -> None:
    packed = tmp_path / "packed"
    packed.mkdir()
    (packed / "part-00000.tar").write_bytes(b"not a tar file at all" * 40)
    with pytest.raises(UserError, match=r"part-00000\.tar: not a readable tar file"):
        list(read_source(packed, spec()))
    write_image(tmp_path / "raw" / "angry" / "a.png", shape_image(0))
    write_image(tmp_path / "raw" / "happy" / "h.png", shape_image(1))
    pack(tmp_path / "raw", packed)
    with pytest.raises(
        UserError, match=re.escape("no image of class 'sad' of data.classes in its tar files")
    ):
        list(read_source(packed, spec(CLASSES)))


@pytest.mark.slow  # a process of its own
def test_the_command_packs_and_refuses_a_target_inside_the_tree(tmp_path: Path) -> None:
    tree = make_dataset(tmp_path / "raw", per_class=2)
    run = [sys.executable, "-m", "emotions.data.pack"]
    done = subprocess.run(
        [*run, str(tree), str(tmp_path / "packed")], capture_output=True, text=True, cwd=ROOT
    )
    assert (
        done.returncode == 0
        and done.stdout.strip() == f"pack: 6 files into {tmp_path / 'packed'} (1 tar file)"
    )
    with tarfile.open(tmp_path / "packed" / "part-00000.tar") as tar:
        assert tar.getnames()[0] == "angry/angry_0.png"
    inside = subprocess.run(
        [*run, str(tree), str(tree / "packed")], capture_output=True, text=True, cwd=ROOT
    )
    assert (
        inside.returncode == 2
        and inside.stderr.strip() == f"error: {tree / 'packed'}: must not lie inside {tree}"
    )


def test_crowd_votes_need_a_folder_tree(tmp_path: Path) -> None:
    pack(make_dataset(tmp_path / "raw", per_class=2), tmp_path / "packed")
    voted = dataclasses.replace(spec(), votes="votes.csv")
    with pytest.raises(
        UserError,
        match="^data.votes: crowd votes are read beside a folder tree, not a packed source$",
    ):
        list(read_source(tmp_path / "packed", voted))
