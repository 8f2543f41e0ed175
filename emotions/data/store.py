"""The prepared data set on disk: the faces as uint8 ``.npy`` shards of at most ``prepare.shard_mb``
each, and beside them one small array per face (label, part, crowd votes) and ``meta.json``. The
faces are read a shard at a time, so what a stage holds is set by the shard size and its own batch
or buffer, never by the number of faces."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from emotions.data.encoding import Encoding
from emotions.errors import UserError

LABELS_FILE = "labels.npy"
ROLES_FILE = "roles.npy"
VOTES_FILE = "votes.npy"
ROWS_FILE = "rows.npy"  # where in the shards each face kept lies
META_FILE = "meta.json"
SHARD_NAME = "faces-{:05d}.npy"
HEADER_BYTES = 128  # of a shard's .npy header: the faces start there, 64-byte aligned
RERUN = "(rerun `dvc repro prepare`)"


class ShardWriter:
    """Faces added one at a time and written as they come, a block of about a megabyte at a time,
    into shards of ``per_shard`` faces: the block being filled is all it holds."""

    def __init__(self, folder: Path, shape: tuple[int, int, int], shard_mb: float) -> None:
        self.folder, self.shape = folder, shape
        self.per_shard = max(1, int(shard_mb * 2**20) // math.prod(shape))
        self._block = np.empty(
            (min(self.per_shard, max(1, 2**20 // math.prod(shape))), *shape), np.uint8
        )
        self._filled = 0  # faces in the block
        self._in_shard = 0  # faces already in the open shard's file
        self._file: BinaryIO | None = None
        self.written = 0
        self.counts: list[int] = []

    def add(self, face: np.ndarray) -> int:
        """Store ``face`` (uint8, ``shape``); returns its position among all the faces written."""
        self._block[self._filled] = face.reshape(self.shape)
        self._filled += 1
        self.written += 1
        if self._filled == len(self._block) or self._in_shard + self._filled == self.per_shard:
            self._spill()
        return self.written - 1

    def _spill(self) -> None:
        if self._file is None:
            self._file = (self.folder / SHARD_NAME.format(len(self.counts))).open("wb")
            self._file.write(_header(self.per_shard, self.shape))  # the count is set on closing
        self._file.write(self._block[: self._filled].tobytes())
        self._in_shard += self._filled
        self._filled = 0
        if self._in_shard == self.per_shard:
            self._close_shard()

    def _close_shard(self) -> None:
        assert self._file is not None
        self._file.seek(0)
        self._file.write(_header(self._in_shard, self.shape))
        self._file.close()
        self.counts.append(self._in_shard)
        self._file, self._in_shard = None, 0

    def finish(self) -> list[int]:
        """Write the last faces and close the last shard; the number of faces in each shard."""
        if self._filled:
            self._spill()
        if self._file is not None:
            self._close_shard()
        return self.counts


def _header(count: int, shape: tuple[int, int, int]) -> bytes:
    """A ``.npy`` (version 1.0) header for ``count`` uint8 faces of ``shape``, always
    ``HEADER_BYTES`` long, so that the count can be written last, over the first one."""
    dims = ", ".join(map(str, (count, *shape)))
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({dims}), }}"
    padded = text.ljust(HEADER_BYTES - 11) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(padded)) + padded.encode("latin1")


class Faces:
    """The prepared faces, uint8 (H, W, C), read from their shards on demand: any rows in any
    order, or a run of rows a chunk at a time. Only the shards a read needs are opened, and each is
    closed again before the read returns."""

    def __init__(
        self, folder: Path, shape: tuple[int, int, int], counts: list[int], rows: np.ndarray
    ) -> None:
        self.folder, self.shape, self.counts = folder, shape, counts
        self.rows = rows
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def face_bytes(self) -> int:
        return math.prod(self.shape)

    def shard(self, index: int) -> np.ndarray:
        """Shard ``index``, memory-mapped; a missing, truncated or damaged shard is a user error."""
        path = self.folder / SHARD_NAME.format(index)
        try:
            array = np.load(path, mmap_mode="r")
        except FileNotFoundError:
            raise UserError(f"{path}: prepared shard missing {RERUN}") from None
        except (ValueError, OSError) as err:
            raise UserError(
                f"{path}: truncated or damaged prepared shard ({err}) {RERUN}"
            ) from None
        if array.shape != (self.counts[index], *self.shape) or array.dtype != np.uint8:
            raise UserError(
                f"{path}: prepared shard holds {array.shape} {array.dtype}, expected "
                f"{(self.counts[index], *self.shape)} uint8 {RERUN}"
            )
        return array

    def check(self) -> None:
        """Open every shard once: a missing or cut one is named before any work starts."""
        for index in range(len(self.counts)):
            self.shard(index)

    def read(self, which: np.ndarray) -> np.ndarray:
        """The faces ``which`` (indices among the faces kept), in that order, as one uint8 array."""
        positions = self.rows[np.asarray(which, dtype=np.int64)]
        out = np.empty((len(positions), *self.shape), np.uint8)
        shard_of = np.searchsorted(self._starts, positions, side="right") - 1
        for index in np.unique(shard_of):
            chosen = shard_of == index
            array = self.shard(int(index))
            out[chosen] = array[positions[chosen] - self._starts[index]]
            del array
        return out

    def subset(self, which: np.ndarray) -> Faces:
        """The faces ``which`` (indices among these, repeats allowed), as faces of their own."""
        return Faces(self.folder, self.shape, self.counts, self.rows[which])

    def chunks(self, which: np.ndarray, size: int) -> Iterator[np.ndarray]:
        """The faces ``which`` in order, ``size`` at a time."""
        for start in range(0, len(which), size):
            yield self.read(which[start : start + size])


@dataclass(frozen=True)
class Prepared:
    """The faces kept, their class indices (int16) and part roles (int8 codes of
    ``hygiene.ROLES``: "train", "val", "test", or 0 where the source named no parts), crowd votes
    where the source has them, and how they were encoded, which the trained model keeps. Labels
    index ``all_classes``: the classes the model predicts, then the extra ones it only learns from.
    A few bytes a face: what a stage holds besides its shards and buffers."""

    faces: Faces
    labels: np.ndarray
    roles: np.ndarray
    encoding: Encoding
    extra_classes: tuple[str, ...] = ()
    votes: np.ndarray | None = None  # (N, all classes)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.encoding.classes

    @property
    def image_size(self) -> int:
        return self.encoding.image_size

    @property
    def all_classes(self) -> tuple[str, ...]:
        return self.classes + self.extra_classes


def save_index(prepared: Prepared) -> None:
    """Write, beside the shards, the small arrays and ``meta.json`` that ``load`` reads."""
    folder, faces = prepared.faces.folder, prepared.faces
    np.save(folder / LABELS_FILE, prepared.labels)
    np.save(folder / ROLES_FILE, prepared.roles)
    np.save(folder / ROWS_FILE, faces.rows)
    if prepared.votes is not None:
        np.save(folder / VOTES_FILE, prepared.votes)
    meta = {
        **prepared.encoding.as_json(),
        "extra_classes": list(prepared.extra_classes),
        "face_shape": list(faces.shape),
        "shards": faces.counts,
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def load(prepared_dir: Path) -> Prepared:
    """The prepared data set: its small arrays read, its shards checked; missing files point the
    user at ``dvc repro``."""
    try:
        meta = json.loads((prepared_dir / META_FILE).read_text(encoding="utf-8"))
        labels = np.load(prepared_dir / LABELS_FILE)
        roles = np.load(prepared_dir / ROLES_FILE)
        rows = np.load(prepared_dir / ROWS_FILE)
    except FileNotFoundError as err:
        raise UserError(
            f"{err.filename}: prepared data not found (run `dvc repro prepare` first)"
        ) from None
    except (ValueError, OSError, KeyError) as err:
        raise UserError(f"{prepared_dir}: damaged prepared data ({err}) {RERUN}") from None
    votes = np.load(prepared_dir / VOTES_FILE) if (prepared_dir / VOTES_FILE).exists() else None
    encoding = Encoding.from_json(meta)
    faces = Faces(prepared_dir, tuple(meta["face_shape"]), list(meta["shards"]), rows)
    faces.check()
    return Prepared(faces, labels, roles, encoding, tuple(meta["extra_classes"]), votes)
