"""The prepared data on disk: uint8 shards of bounded size, read a shard at a time, and a shard that
is missing, cut short or damaged named in one line that says to rerun prepare."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotions.data import store
from emotions.data.store import Faces, ShardWriter
from emotions.errors import UserError
from tests.conftest import make_dataset, prepare_source

RERUN = "(rerun `dvc repro prepare`)"


def written(folder: Path, n: int, per_shard: int, shape: tuple[int, int, int] = (4, 4, 1)) -> Faces:
    writer = ShardWriter(folder, shape, shard_mb=per_shard * np.prod(shape) / 2**20)
    for i in range(n):
        assert writer.add(np.full(shape, i, np.uint8)) == i
    return Faces(folder, shape, writer.finish(), np.arange(n))


def test_shards_hold_at_most_their_size(tmp_path: Path) -> None:
    faces = written(tmp_path, 10, per_shard=4)
    assert faces.counts == [4, 4, 2]
    assert [np.load(p).shape for p in sorted(tmp_path.glob("faces-*.npy"))] == [
        (4, 4, 4, 1),
        (4, 4, 4, 1),
        (2, 4, 4, 1),
    ]


def test_faces_are_read_in_any_order_and_in_chunks(tmp_path: Path) -> None:
    faces = written(tmp_path, 10, per_shard=4)
    assert faces.read(np.array([9, 0, 5, 5]))[:, 0, 0, 0].tolist() == [9, 0, 5, 5]
    chunks = list(faces.chunks(np.arange(10), 3))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    kept = faces.subset(np.array([7, 2]))
    assert len(kept) == 2 and kept.read(np.array([1, 0]))[:, 0, 0, 0].tolist() == [2, 7]


@pytest.fixture
def prepared_dir(tmp_path: Path) -> Path:
    """A prepared folder of two shards."""
    outcome = prepare_source(
        make_dataset(tmp_path / "raw", per_class=4), shard_mb=6 * 16 * 16 / 2**20
    )
    assert len(outcome.prepared.faces.counts) == 2
    return outcome.folder


def damage(shard: Path, how: str) -> None:
    if how == "missing":
        shard.unlink()
    elif how == "truncated":
        shard.write_bytes(shard.read_bytes()[:-100])
    else:
        shard.write_bytes(b"not a shard at all")


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing", "prepared shard missing"),
        ("truncated", "truncated or damaged prepared shard"),
        ("garbage", "truncated or damaged prepared shard"),
    ],
)
def test_a_bad_shard_is_named_before_any_work(prepared_dir: Path, how: str, message: str) -> None:
    shard = prepared_dir / "faces-00001.npy"
    damage(shard, how)
    with pytest.raises(
        UserError, match=f"^{re.escape(str(shard))}: {message}.*{re.escape(RERUN)}$"
    ):
        store.load(prepared_dir)


def test_a_shard_of_another_shape_is_named(prepared_dir: Path) -> None:
    shard = prepared_dir / "faces-00000.npy"
    np.save(shard, np.zeros((6, 8, 8, 1), np.uint8))
    with pytest.raises(
        UserError, match=re.escape(f"{shard}: prepared shard holds (6, 8, 8, 1) uint8")
    ):
        store.load(prepared_dir)


@pytest.mark.slow  # a process of its own
def test_a_stage_reading_a_cut_shard_says_one_line(prepared_dir: Path) -> None:
    damage(prepared_dir / "faces-00000.npy", "truncated")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.split",
            "--prepared",
            str(prepared_dir),
            "--out",
            str(prepared_dir.parent / "s.json"),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {prepared_dir / 'faces-00000.npy'}: truncated"
    )
    assert not (prepared_dir.parent / "s.json").exists()
