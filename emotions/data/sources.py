"""Raw data sets as users bring them: a folder tree (one sub-folder per class, optionally inside
part folders such as ``train/`` and ``test/``, optionally with a CSV of crowd votes), FER+'s own
layout (part folders of images, each with a ``label.csv`` of votes), or the original FER-2013 CSV,
streamed row by row."""

from __future__ import annotations

import csv
import itertools
import os
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TextIO

import numpy as np

from emotions.data import votes
from emotions.data.imaging import BadImage, decode_image, in_color, is_image_file, read_image
from emotions.errors import UserError

FER_CSV_COLUMNS = ("emotion", "pixels")
FER_SIDE = 48

# Part names as data sets spell them (lower-cased), and the role each plays.
TRAIN_NAMES = frozenset({"train", "training", "fer2013train"})
VAL_NAMES = frozenset({"val", "valid", "validation", "dev", "publictest", "fer2013valid"})
TEST_NAMES = frozenset({"test", "testing", "privatetest", "publictest", "fer2013test"})
TAR_SUFFIX = ".tar"
FERPLUS_LABELS = "label.csv"  # in each part folder of FER+'s layout


@dataclass(frozen=True)
class SourceSpec:
    """What to read from a source: the classes in order, and how folder or CSV labels map onto
    them."""

    classes: tuple[str, ...]
    aliases: Mapping[str, str]  # lower-cased folder name -> class name
    csv_emotions: tuple[str, ...]  # CSV emotion code i -> name
    format: str  # "auto", "folders" or "csv"
    # a votes CSV in a folder tree's top folder (FER+'s layout has its own)
    votes: str | None = None
    color: str = "gray"  # read faces as grayscale or as RGB
    # what reading found worth saying besides bad images (rows of a votes file not used, ...)
    notes: list[str] = field(default_factory=list, compare=False)

    def canonical(self, name: str) -> str | None:
        """The class a folder name stands for (case and alias insensitive), or None."""
        key = name.strip().lower()
        key = self.aliases.get(key, key).strip().lower()
        return next((c for c in self.classes if c.lower() == key), None)


@dataclass(frozen=True)
class RawImage:
    """One item of a source: 8-bit pixels (grayscale or RGB, as the spec asks), or the reason there
    are none."""

    origin: str  # a file path, or "<csv>:<line>"
    label: str
    part: str  # the part's name as the source spells it; "" when the source has no parts
    pixels: np.ndarray | None
    error: str | None = None
    # the crowd's votes for each class in use, where the source has them
    votes: np.ndarray | None = None
    crowd: str | None = None  # why the crowd rules the face out of training, if it does


def tar_files(source: Path) -> list[Path]:
    """A packed source's archives: the ``.tar`` file itself, or those of a folder that holds
    ``.tar`` files and no sub-folders; [] for any other source."""
    if source.is_file():
        return [source] if source.suffix.lower() == TAR_SUFFIX else []
    if not source.is_dir() or _subfolders(source):
        return []
    return sorted(
        p for p in source.iterdir() if p.suffix.lower() == TAR_SUFFIX and not p.name.startswith(".")
    )


def source_format(source: Path, requested: str) -> str:
    if not source.exists():
        raise UserError(f"{source}: raw data not found (set data.source in params.yaml)")
    found = "folders" if source.is_dir() else "csv" if source.suffix.lower() == ".csv" else None
    if tar_files(source):
        found = "tar"
    if requested != "auto" and found != requested:
        raise UserError(
            f"{source}: data.format is {requested!r} but this is not a {requested} source"
        )
    if found is None:
        raise UserError(
            f"{source}: data.source must be a folder of class folders, a FER-2013 .csv file or "
            "packed .tar files"
        )
    return found


def read_source(source: Path, spec: SourceSpec) -> Iterator[RawImage]:
    """Every image of the chosen classes, in a stable order; a class with no images is a user
    error."""
    found = source_format(source, spec.format)
    if found == "csv":
        yield from _read_csv(source, spec)
    elif found == "tar":
        yield from _read_tars(source, spec)
    elif any((folder / FERPLUS_LABELS).is_file() for folder in _subfolders(source)):
        yield from _read_ferplus(source, spec)
    elif spec.votes is not None:
        yield from _with_votes(_read_folders(source, spec), source, spec)
    else:
        yield from _read_folders(source, spec)


def _placed(parts: tuple[str, ...], spec: SourceSpec) -> tuple[str, str] | None:
    """The part and class of a packed file by its path: ``class/file`` or ``part/class/file``."""
    if len(parts) >= 2 and (name := spec.canonical(parts[0])) is not None:
        return "", name
    if len(parts) >= 3 and (name := spec.canonical(parts[1])) is not None:
        return parts[0], name
    return None


def _read_tars(source: Path, spec: SourceSpec) -> Iterator[RawImage]:
    """A packed source: tar files holding a folder tree (``emotions.data.pack`` writes them), read
    member by member in the archives' order, so a few files stand for many images. Members outside
    a class folder are not read."""
    if spec.votes is not None:
        raise UserError(
            "data.votes: crowd votes are read beside a folder tree, not a packed source"
        )
    seen: set[str] = set()
    for archive in tar_files(source):
        try:
            with tarfile.open(archive, "r:") as tar:
                for member in tar:
                    parts = PurePosixPath(member.name).parts
                    placed = _placed(parts, spec)
                    if (
                        not member.isfile()
                        or placed is None
                        or any(p.startswith(".") for p in parts)
                    ):
                        continue
                    part, name = placed
                    origin = f"{archive}:{member.name}"
                    if not is_image_file(Path(member.name)):
                        suffix = PurePosixPath(member.name).suffix or "no suffix"
                        yield RawImage(origin, name, part, None, f"not an image file ({suffix})")
                        continue
                    handle = tar.extractfile(member)
                    data = handle.read() if handle is not None else b""
                    try:
                        pixels = decode_image(data, spec.color)
                    except BadImage as err:
                        yield RawImage(origin, name, part, None, str(err))
                        continue
                    seen.add(name)
                    yield RawImage(origin, name, part, pixels)
        except (tarfile.TarError, OSError, EOFError) as err:
            raise UserError(f"{archive}: not a readable tar file ({err})") from None
    missing = [c for c in spec.classes if c not in seen]
    if missing:
        raise UserError(
            f"{source}: no image of class {missing[0]!r} of data.classes in its tar files"
        )


def _read_ferplus(source: Path, spec: SourceSpec) -> Iterator[RawImage]:
    """FER+'s layout: part folders (``FER2013Train/``, ``FER2013Valid/``, ``FER2013Test/``) of
    images, each listed in the folder's ``label.csv`` with ten votes. With no single label, a face's
    label is the crowd's majority among the classes in use."""
    columns = votes.answer_columns(spec.classes, spec.canonical)
    seen: set[str] = set()
    for folder in _subfolders(source):
        if not (folder / FERPLUS_LABELS).is_file():
            continue
        unused = votes.Unused(folder / FERPLUS_LABELS)
        for line, name, counts in votes.read_label_csv(folder / FERPLUS_LABELS):
            path = str(folder / name)
            if counts is None:
                unused.add(votes.BAD_COUNTS, line)
                yield RawImage(
                    path, "", folder.name, None, f"its {FERPLUS_LABELS} row has no ten vote counts"
                )
                continue
            class_votes = votes.class_votes(counts, columns)
            crowd = votes.verdict(counts, class_votes)
            label = "" if crowd else spec.classes[int(votes.majority(class_votes[np.newaxis])[0])]
            seen.add(label)
            try:
                pixels = read_image(folder / name, spec.color)
            except BadImage as err:
                yield RawImage(path, label, folder.name, None, str(err))
                continue
            yield RawImage(path, label, folder.name, pixels, votes=class_votes, crowd=crowd)
        spec.notes.extend(unused.summary())
    absent = [c for c in spec.classes if c not in seen]
    if absent:
        raise UserError(
            f"{source}: no face the crowd labels {absent[0]!r} (a class of data.classes)"
            + "".join(f"; {note}" for note in spec.notes)
        )


def _with_votes(items: Iterator[RawImage], source: Path, spec: SourceSpec) -> Iterator[RawImage]:
    """A folder tree's items with their votes from the votes CSV, matched by path below
    ``source``."""
    path = source / str(spec.votes)
    if not path.is_file():
        raise UserError(
            f"data.votes: {path} not found (a votes CSV in the data.source folder, or none)"
        )
    unused = votes.Unused(path)
    table = votes.read_votes_csv(path, unused)
    columns = votes.answer_columns(spec.classes, spec.canonical)
    matched: set[str] = set()
    for item in items:
        key = Path(item.origin).relative_to(source).as_posix()
        counts = table.get(key)
        if counts is None:
            yield replace(item, crowd=votes.NO_VOTES)
        else:
            matched.add(key)
            in_use = votes.class_votes(counts, columns)
            yield replace(item, votes=in_use, crowd=votes.verdict(counts, in_use))
    for key, line in unused.rows.items():
        if key not in matched:
            unused.add(votes.UNMATCHED, line)
    spec.notes.extend(unused.summary())


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


NAMES_CHUNK = 4096  # file names listed before they are packed into an array


def visible_files(folder: Path) -> Iterator[Path]:
    """Every non-hidden file below ``folder``, one at a time, in sorted order (determinism needs a
    stable one): a folder's entries by name, a sub-folder's files where its name sorts. Links come
    too, so that a broken one, or one to a folder (not followed), is reported rather than left
    out. Only one folder's names are held at a time, as bytes in one array (about as many bytes a
    file as its longest name has, where a list of strings takes over a hundred)."""
    chunks: list[np.ndarray] = []
    pending: list[bytes] = []
    folders: set[bytes] = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.add(os.fsencode(entry.name))
            elif not (entry.is_file(follow_symlinks=False) or entry.is_symlink()):
                continue  # a socket or a pipe
            pending.append(os.fsencode(entry.name))
            if len(pending) == NAMES_CHUNK:
                chunks.append(np.array(pending))
                pending.clear()
    if pending:
        chunks.append(np.array(pending))
    names = np.sort(np.concatenate(chunks)) if chunks else np.array([], dtype="S1")
    del chunks, pending
    for name in map(bytes, names):
        path = folder / os.fsdecode(name)
        if name in folders:
            yield from visible_files(path)
        else:
            yield path


def _class_folders(folder: Path, spec: SourceSpec) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for sub in _subfolders(folder):
        name = spec.canonical(sub.name)
        if name is not None:
            found.setdefault(name, []).append(sub)
    return found


def folder_layout(source: Path, spec: SourceSpec) -> dict[str, dict[str, list[Path]]]:
    """Part name -> class -> folders. Class folders at the top mean one unnamed part ("")."""
    top = _class_folders(source, spec)
    if top:
        layout = {"": top}
    else:
        layout = {p.name: found for p in _subfolders(source) if (found := _class_folders(p, spec))}
    if not layout:
        names = ", ".join(p.name for p in _subfolders(source)) or "none"
        raise UserError(
            f"{source}: no class folders for data.classes {list(spec.classes)} "
            f"(sub-folders found: {names})"
        )
    for part, classes in layout.items():
        where = source / part if part else source
        missing = [c for c in spec.classes if c not in classes]
        if missing:
            raise UserError(f"{where}: no folder for class {missing[0]!r} of data.classes")
    return layout


def _read_folders(source: Path, spec: SourceSpec) -> Iterator[RawImage]:
    for part, classes in folder_layout(source, spec).items():
        for name in spec.classes:
            files = (f for folder in classes[name] for f in visible_files(folder))
            first = next(files, None)
            if first is None:
                where = " and ".join(str(f) for f in classes[name])
                raise UserError(f"{where}: class folder {name!r} is empty")
            for path in itertools.chain([first], files):
                if path.is_dir():
                    yield RawImage(str(path), name, part, None, "a link to a folder (not followed)")
                    continue
                if not is_image_file(path):
                    yield RawImage(
                        str(path),
                        name,
                        part,
                        None,
                        f"not an image file ({path.suffix or 'no suffix'})",
                    )
                    continue
                try:
                    yield RawImage(str(path), name, part, read_image(path, spec.color))
                except BadImage as err:
                    yield RawImage(str(path), name, part, None, str(err))


def _csv_records(handle: TextIO) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """Each CSV record's line number and fields, or why it has none; blank lines are left out.

    The file is decoded with ``surrogateescape``, so a row of stray bytes is one bad row, not the
    end of the file.
    """
    rows = csv.reader(handle)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as err:
            yield rows.line_num, None, f"not a CSV row ({err})"
            continue
        if not any(field.strip() for field in row):
            continue
        try:
            "".join(row).encode("utf-8")
        except UnicodeEncodeError:
            yield rows.line_num, None, "not UTF-8 text"
            continue
        yield rows.line_num, row, None


def _read_csv(source: Path, spec: SourceSpec) -> Iterator[RawImage]:
    """Stream the FER-2013 CSV (emotion, pixels[, Usage]): memory holds one row at a time. A bad row
    (short, stray bytes, an unknown emotion code, wrong pixels) becomes an item with its reason and
    line number, so the manifest lists it and the other rows go on."""
    codes = [spec.canonical(name) for name in spec.csv_emotions]
    missing = [c for c in spec.classes if c not in codes]
    if missing:
        raise UserError(
            f"data.csv_emotions: class {missing[0]!r} of data.classes has no emotion code"
        )
    seen: set[str] = set()
    # utf-8-sig: spreadsheet programs start their CSV exports with a byte-order mark.
    with source.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        records = _csv_records(handle)
        _, first, _ = next(records, (0, None, None))
        header = [h.strip().lower() for h in first or []]
        if not all(column in header for column in FER_CSV_COLUMNS):
            raise UserError(
                f"{source}: not a FER-2013 CSV (header must have emotion and pixels columns)"
            )
        i_emotion, i_pixels = header.index("emotion"), header.index("pixels")
        i_usage = header.index("usage") if "usage" in header else None
        for line, row, problem in records:
            origin = f"{source}:{line}"
            if row is None:
                yield RawImage(origin, "", "", None, problem)
                continue
            part = row[i_usage].strip() if i_usage is not None and len(row) > i_usage else ""
            if len(row) < len(header):
                yield RawImage(
                    origin,
                    "",
                    part,
                    None,
                    f"{len(row)} fields, not {len(header)} ({', '.join(header)})",
                )
                continue
            try:
                code = int(row[i_emotion])
            except ValueError:
                yield RawImage(
                    origin, "", part, None, f"emotion {row[i_emotion].strip()!r} is not a number"
                )
                continue
            if not 0 <= code < len(codes):
                yield RawImage(
                    origin,
                    "",
                    part,
                    None,
                    f"emotion code {code} is not in data.csv_emotions (0 to {len(codes) - 1})",
                )
                continue
            name = codes[code]
            if name is None:
                continue  # a class the pipeline does not use
            seen.add(name)
            try:
                pixels = np.array(row[i_pixels].split(), dtype=np.uint8)
            except (ValueError, OverflowError):
                yield RawImage(origin, name, part, None, "pixels are not 8-bit numbers")
                continue
            if pixels.size != FER_SIDE * FER_SIDE:
                yield RawImage(
                    origin, name, part, None, f"{pixels.size} pixels, not {FER_SIDE}x{FER_SIDE}"
                )
                continue
            yield RawImage(
                origin, name, part, in_color(pixels.reshape(FER_SIDE, FER_SIDE), spec.color)
            )
    absent = [c for c in spec.classes if c not in seen]
    if absent:
        raise UserError(f"{source}: no rows for class {absent[0]!r} of data.classes")


def part_roles(parts: Sequence[str]) -> dict[str, str]:
    """Map a source's part names to train / val / test, following FER-2013's protocol.

    One held-out part is the test set (validation then comes from training); with two, the one
    named like validation (or PublicTest) validates and the other (PrivateTest) tests.
    """
    names = sorted(set(parts))
    if set(names) <= {""}:  # no parts (or no items: the caller names the empty class)
        return {"": ""}
    train = [n for n in names if n.lower() in TRAIN_NAMES]
    held_out = [n for n in names if n not in train]
    if len(train) != 1 or not 1 <= len(held_out) <= 2:
        raise UserError(
            f"data.source: cannot tell train from test among parts {names} "
            "(expected one training part such as train/ or Training/, and one or two held-out "
            "parts)"
        )
    roles = {train[0]: "train"}
    if len(held_out) == 1:
        roles[held_out[0]] = "test"
        return roles
    a, b = held_out
    a_val = a.lower() in VAL_NAMES and b.lower() in TEST_NAMES - {"publictest"}
    b_val = b.lower() in VAL_NAMES and a.lower() in TEST_NAMES - {"publictest"}
    if a_val == b_val:
        raise UserError(
            f"data.source: cannot tell validation from test between parts {a!r} and {b!r}"
        )
    val, test = (a, b) if a_val else (b, a)
    roles.update({val: "val", test: "test"})
    return roles
