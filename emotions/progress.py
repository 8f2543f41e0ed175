"""Progress bars for long loops: shown on a terminal, silent in logs and under CI."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(
    items: Iterable[T], what: str, total: int | None = None, unit: str = "it"
) -> Iterator[T]:
    yield from tqdm(
        items, desc=what, total=total, unit=unit, disable=not sys.stderr.isatty(), leave=False
    )
