"""Atomic outputs: a failed or interrupted stage never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from emotions.errors import UserError


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
        fd, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent
        )
        os.close(fd)
        tmp = Path(name)
        try:
            os.chmod(
                tmp, 0o666 & ~_umask()
            )  # mkstemp makes private files; outputs are ordinary ones
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
    with atomic_path(target) as tmp:
        if not cv2.imwrite(str(tmp), image):
            raise OSError("OpenCV could not write the PNG")


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; it replaces ``target`` whole, only on
    success."""
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            os.chmod(tmp, 0o777 & ~_umask())
            yield tmp
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
                os.replace(target, old / target.name)
                os.replace(tmp, target)
                shutil.rmtree(old)
            else:
                os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
