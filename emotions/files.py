"""Atomic outputs: a failed or interrupted stage never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from emotions.errors import UserError

STEM = 40  # characters of a target's name kept in its temporary names


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _writing(target: Path) -> Iterator[None]:
    """An OS error while writing (a parent that is a file, no permission, a full disk) is the user's
    to fix: one line naming the output, not a traceback."""
    try:
        yield
    except (FileExistsError, NotADirectoryError):  # what mkdir and open say, less plainly
        raise UserError(f"{target}: cannot write (part of its folder path is a file)") from None
    except OSError as err:
        raise UserError(f"{target}: cannot write ({err.strerror or err})") from None


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (same suffix); it replaces ``target`` only on
    success."""
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        # a short temporary name: a file name of 250 characters is legal, it with more is not
        prefix, suffix = f".{target.stem[:STEM]}.", target.suffix[:STEM]
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes private files; outputs are ordinary
            yield tmp
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text with a header line (Unix line ends, so outputs hash the same everywhere)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_png(target: Path, image: np.ndarray) -> None:
    """Encoded in memory (fixed settings: the bytes depend on the pixels alone) and written with
    Python's I/O, which raises on a full disk: OpenCV's own ``imwrite`` reports success when the
    write to disk fails, and leaves an empty file."""
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise UserError(f"{target}: cannot write (OpenCV could not encode the picture)")
    with atomic_path(target) as tmp:
        tmp.write_bytes(encoded.tobytes())


def _remove_leftovers(target: Path) -> None:
    """Temporary folders of ``target`` that an earlier run left when it was killed (``kill -9``, a
    power cut): nothing else writes there, so they can only be leftovers."""
    for leftover in target.parent.glob(f".{glob.escape(target.name[:STEM])}.*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; it replaces ``target`` whole, only on
    success."""
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name[:STEM]}.", dir=target.parent))
        try:
            os.chmod(tmp, 0o777 & ~_umask())
            yield tmp
            if target.exists():
                old = Path(
                    tempfile.mkdtemp(prefix=f".{target.name[:STEM]}.old.", dir=target.parent)
                )
                os.replace(target, old / target.name)
                os.replace(tmp, target)
                shutil.rmtree(old)
            else:
                os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
