"""Crowd labels: FER+'s ten votes per face (ten people each picked one of ten answers), read from
FER+'s own ``label.csv`` files or from a votes CSV keyed by image path, and turned into training
targets over the classes in use. One person's label is noisy (on FER-2013's test faces the crowd's
majority agrees with it 62% of the time); the vote distribution is the published remedy."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from emotions.errors import UserError

# FER+'s answer columns, in its files' order; "NF" is "not a face".
FERPLUS_ANSWERS = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
NOT_A_FACE = FERPLUS_ANSWERS.index("NF")

CROWD_NOT_A_FACE = "crowd: not a face"
CROWD_NO_VOTE = "crowd: no vote for a class in use"
NO_VOTES = "crowd: no votes for this image"


BAD_COUNTS = "not ten whole vote counts of 0 or more"
TWICE = "a path given again (its first row counts)"
NO_VOTE = "all ten counts 0"
UNMATCHED = "a path that names no image of the source"
SHOWN_LINES = 5  # line numbers quoted for each reason


def _counts(cells: Sequence[str]) -> np.ndarray | None:
    """Ten vote counts, or None where a cell is not a whole number >= 0. Whole numbers written as
    floats (``8.0``, as a pandas export writes them) are whole numbers too."""
    try:
        numbers = [float(cell) for cell in cells]
    except ValueError:
        return None
    if len(numbers) != len(FERPLUS_ANSWERS) or not all(n >= 0 and n == int(n) for n in numbers):
        return None
    return np.array(numbers, dtype=np.int64)


class Unused:
    """Rows of a votes file that could not be used: how many for each reason, and where."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[str, list[int]] = {}
        self.rows: dict[str, int] = {}  # each used row's line, by its path

    def add(self, reason: str, line: int) -> None:
        self.lines.setdefault(reason, []).append(line)

    def summary(self) -> list[str]:
        """One line per reason: the count and the first few line numbers."""
        out = []
        for reason, lines in self.lines.items():
            shown = ", ".join(map(str, lines[:SHOWN_LINES])) + (
                ", ..." if len(lines) > SHOWN_LINES else ""
            )
            out.append(f"{self.path}: {len(lines)} rows not used, {reason} (lines {shown})")
        return out


def read_votes_csv(path: Path, unused: Unused | None = None) -> dict[str, np.ndarray]:
    """A votes CSV (``path,neutral,happiness,...,NF``): image path relative to the CSV's folder ->
    its ten counts. Rows that cannot be used are left out (their images then have no votes), each
    counted in ``unused`` by its reason."""
    unused = unused or Unused(path)
    try:
        with path.open(encoding="utf-8-sig", newline="", errors="replace") as f:
            rows = csv.reader(f)
            header = next(rows, [])
            if [h.strip() for h in header] != ["path", *FERPLUS_ANSWERS]:
                raise UserError(
                    f"{path}: not a votes CSV (expected the header "
                    f"path,{','.join(FERPLUS_ANSWERS)})"
                )
            votes: dict[str, np.ndarray] = {}
            for line, row in enumerate(rows, start=2):
                if not row or not any(cell.strip() for cell in row):
                    continue
                counts = _counts(row[1:])
                key = Path(row[0].strip()).as_posix()
                if counts is None:
                    unused.add(BAD_COUNTS, line)
                elif not counts.any():
                    unused.add(NO_VOTE, line)
                elif key in votes:
                    unused.add(TWICE, line)
                else:
                    votes[key] = counts
                    unused.rows[key] = line
            return votes
    except OSError as err:
        raise UserError(f"{path}: cannot read the votes CSV ({err.strerror or err})") from None


def read_label_csv(path: Path) -> Iterator[tuple[int, str, np.ndarray | None]]:
    """FER+'s per-folder ``label.csv`` (no header): line number, image file name, face box, ten
    counts. A row whose counts do not parse comes with None."""
    try:
        with path.open(encoding="utf-8-sig", newline="", errors="replace") as f:
            for line, row in enumerate(csv.reader(f), start=1):
                if row and row[0].strip():
                    yield line, row[0].strip(), _counts(row[2:])
    except OSError as err:
        raise UserError(f"{path}: cannot read FER+ labels ({err.strerror or err})") from None


def answer_columns(classes: Sequence[str], canonical: Callable[[str], str | None]) -> np.ndarray:
    """For each class in use, the FER+ answer column it stands for (matched through ``canonical``,
    which knows the aliases: ``happiness: happy``), or -1 when FER+ has no such answer."""
    columns = np.full(len(classes), -1, dtype=np.int64)
    for column, answer in enumerate(FERPLUS_ANSWERS[:NOT_A_FACE]):
        name = canonical(answer)
        if name is not None and name in classes:
            columns[list(classes).index(name)] = column
    return columns


def class_votes(counts: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The votes for each class in use (0 for a class FER+ does not ask about)."""
    return np.where(columns >= 0, counts[np.maximum(columns, 0)], 0).astype(np.float32)


def verdict(counts: np.ndarray, in_use: np.ndarray) -> str | None:
    """Why the crowd rules a face out of training, given its ten ``counts`` and its votes for the
    classes in use (``class_votes``), or None."""
    if counts[NOT_A_FACE] > 0 and counts[NOT_A_FACE] == counts.max():
        return CROWD_NOT_A_FACE
    if in_use.sum() == 0:
        return CROWD_NO_VOTE
    return None


def majority(votes: np.ndarray) -> np.ndarray:
    """The most-voted class in use per row (a tie goes to the class listed first)."""
    return np.argmax(votes, axis=1)


def distribution(votes: np.ndarray) -> np.ndarray:
    """Each row's votes as probabilities over the classes in use (soft targets)."""
    return (votes / votes.sum(axis=1, keepdims=True)).astype(np.float32)
