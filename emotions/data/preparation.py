"""Prepare: every image of a source read, checked and preprocessed as it comes, written into uint8
shards, then cleaned (blank images, duplicates, conflicting labels, held-out faces also in training)
from content hashes, without holding the images. A manifest row per input says what became of it,
and a report counts the classes before and after each cleaning step."""

from __future__ import annotations

import array
import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotions.data import hygiene, store, votes
from emotions.data.encoding import Encoding
from emotions.data.imaging import CHANNELS, face_crops
from emotions.data.sources import RawImage, SourceSpec, part_roles, read_source
from emotions.data.store import Prepared
from emotions.errors import UserError
from emotions.params import DataParams, PrepareParams
from emotions.progress import progress

MANIFEST_FILE = "manifest.csv"
REPORT_FILE = "report.json"
MANIFEST_COLUMNS = ["path", "class", "part", "status", "reason"]

UNREADABLE = "unreadable"
NO_FACE = "no face found"
# Every reason a face is left out, in the order the report counts them; code 0 is none.
REMOVAL_STEPS = (
    UNREADABLE,
    NO_FACE,
    votes.CROWD_NOT_A_FACE,
    votes.CROWD_NO_VOTE,
    votes.NO_VOTES,
    *hygiene.STEPS,
)
CODE = {reason: code for code, reason in enumerate(REMOVAL_STEPS, start=1)}


@dataclass(frozen=True)
class ManifestRow:
    path: str
    label: str
    part: str
    status: str  # "used" or "skipped"
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """What prepare produced: the faces kept (in their shards), the manifest of every input, the
    data report."""

    prepared: Prepared
    folder: Path
    report: dict[str, object]
    notes: list[str]  # what reading the source found besides bad images (votes rows not used, ...)

    @property
    def manifest(self) -> list[ManifestRow]:
        """Every row of the manifest, read back from its file (for people and tests: the stage
        itself never holds it)."""
        with (self.folder / MANIFEST_FILE).open(encoding="utf-8", newline="") as f:
            return [ManifestRow(*row) for row in list(csv.reader(f))[1:]]

    @property
    def read(self) -> int:
        """How many inputs the source gave."""
        steps = self.report["steps"]
        assert isinstance(steps, list)
        return int(steps[0]["total"])

    def skipped(self, limit: int) -> tuple[list[ManifestRow], int]:
        """The first ``limit`` skipped rows, and how many were skipped in all."""
        shown: list[ManifestRow] = []
        total = 0
        with (self.folder / MANIFEST_FILE).open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row["status"] == "skipped":
                    total += 1
                    if len(shown) < limit:
                        shown.append(ManifestRow(*row.values()))
        return shown, total


class _Ledger:
    """One small entry per input, in compact arrays: its class, part, what became of it (5 bytes);
    and for a face written to the shards, which input it is and its content hash (20 bytes). What
    prepare decides at the end, it decides from these; the inputs' paths wait in the draft manifest
    on disk."""

    def __init__(self) -> None:
        self.labels = array.array("h")  # index in the classes; -1 none
        self.parts = array.array("h")  # index in part_names
        self.reasons = array.array("b")  # a code of CODE; 0: kept so far
        self.crowd = array.array("b")  # the crowd's verdict's code; 0: none
        self.inputs = array.array("i")  # by position in the shards: the input written there
        self.digests = bytearray()  # hygiene.DIGEST bytes per face written
        self.votes = array.array("f")
        self.has_votes = False
        self.part_names: dict[str, int] = {}


def from_source(source: Path, data: DataParams, p: PrepareParams, out_dir: Path) -> Outcome:
    """The prepare stage's work: every image of ``data.classes`` and ``data.extra_classes`` in the
    source, read as the ``data`` params say, then ``prepare`` into ``out_dir``."""
    every = data.classes + data.extra_classes
    spec = SourceSpec(every, data.aliases, data.csv_emotions, data.format, data.votes, p.color)
    items = read_source(source, spec)
    return prepare(items, data.classes, p, out_dir, data.extra_classes, spec.notes)


def prepare(
    items: Iterable[RawImage],
    classes: Sequence[str],
    p: PrepareParams,
    out_dir: Path,
    extra_classes: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Outcome:
    """Preprocess every raw image with the shared function, as ``p`` says (size, face detection,
    what to do with a bad file), write it into ``out_dir``'s shards as it comes, then clean: see
    ``hygiene``. ``notes`` are what reading the source found besides bad images (filled as the
    items are read): they go into the report, and into the error if a class ends up empty. Labels
    index ``classes`` followed by ``extra_classes``."""
    every_class = [*classes, *extra_classes]
    out_dir.mkdir(parents=True, exist_ok=True)
    shape = (p.image_size, p.image_size, CHANNELS[p.color])
    writer = store.ShardWriter(out_dir, shape, p.shard_mb)
    ledger = _Ledger()
    draft = out_dir / f".{MANIFEST_FILE}.draft"
    with draft.open("w", encoding="utf-8", newline="") as f:
        rows = csv.writer(f, lineterminator="\n")
        for item in progress(items, "prepare", unit="img"):
            _record(item, every_class, p, writer, ledger)
            rows.writerow([_text(item.origin), item.label, _text(item.part), item.error or ""])
    writer.finish()
    roles, roles_by_name = _roles(ledger)
    _clean(ledger, roles, p.dedupe)
    _write_manifest(draft, out_dir / MANIFEST_FILE, ledger)
    report = {**_report(ledger, roles, roles_by_name, every_class), "source_notes": list(notes)}
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    labels = np.frombuffer(ledger.labels, np.int16)
    kept = (np.frombuffer(ledger.reasons, np.int8) == 0) & (labels >= 0)
    left = np.bincount(labels[kept], minlength=len(every_class))
    for name, count in zip(every_class, left, strict=True):
        if not count:
            raise UserError(
                f"class {name!r}: no usable image left after prepare (see the manifest's reasons)"
                + "".join(f"; {note}" for note in notes)
            )
    encoding = Encoding(tuple(classes), p.image_size, p.face_detect, p.color)
    prepared = _prepared(ledger, roles, writer, encoding, extra_classes)
    store.save_index(prepared)
    return Outcome(prepared, out_dir, report, list(notes))


def _record(
    item: RawImage,
    every_class: Sequence[str],
    p: PrepareParams,
    writer: store.ShardWriter,
    ledger: _Ledger,
) -> None:
    """Check and preprocess one input: a face is written to the shards at once, and only its entry
    in the ledger stays."""
    ledger.labels.append(every_class.index(item.label) if item.label in every_class else -1)
    ledger.parts.append(ledger.part_names.setdefault(item.part, len(ledger.part_names)))
    ledger.crowd.append(CODE[item.crowd] if item.crowd else 0)
    reason = 0
    if item.pixels is None:
        if p.on_bad_image == "error":
            raise UserError(f"{item.origin}: {item.error} (prepare.on_bad_image is 'error')")
        reason = CODE[UNREADABLE]
    elif hygiene.is_blank(item.pixels, p.min_std):
        reason = CODE[hygiene.BLANK]
    else:
        faces = face_crops(item.pixels, p.image_size, p.face_detect)
        if faces:
            position = writer.add(faces[0][1])  # the largest face
            ledger.inputs.append(len(ledger.reasons))
            ledger.digests += hygiene.digest(item.pixels)
            none = np.zeros(len(every_class), np.float32)
            if (
                item.votes is not None and not ledger.has_votes
            ):  # the first votes: the faces before have none
                ledger.votes.extend(np.tile(none, position))
                ledger.has_votes = True
            if ledger.has_votes:  # a source without votes keeps no row of zeros a face
                ledger.votes.extend(none if item.votes is None else item.votes)
        else:
            reason = CODE[NO_FACE]
    ledger.reasons.append(reason)


def _roles(ledger: _Ledger) -> tuple[np.ndarray, dict[str, str]]:
    """Each input's part role as a code of ``hygiene.ROLES`` (which is also how held-out it is),
    and each part name's role. Only inputs with pixels name the parts: a bad row or file must not
    invent one (an empty part beside Training would become the test set)."""
    parts = np.frombuffer(ledger.parts, np.int16)
    readable = np.frombuffer(ledger.reasons, np.int8) != CODE[UNREADABLE]  # not yet cleaned
    names = list(ledger.part_names)
    by_name = part_roles([names[i] for i in np.unique(parts[readable])])
    codes = [hygiene.ROLES.index(by_name.get(name, "")) for name in names] or [0]
    return np.array(codes, np.int8)[parts], by_name


def _clean(ledger: _Ledger, roles: np.ndarray, dedupe: bool) -> None:
    """The crowd's verdicts keep faces out of training (held-out faces keep their label); then the
    duplicates, conflicting labels and leaks among the faces written, from their hashes."""
    reasons = np.frombuffer(ledger.reasons, np.int8)
    crowd = np.frombuffer(ledger.crowd, np.int8)
    labels = np.frombuffer(ledger.labels, np.int16)
    in_training = roles <= hygiene.TRAIN  # train, or a source without parts
    judged = (reasons == 0) & (crowd > 0) & ((labels < 0) | in_training)
    reasons[judged] = crowd[judged]
    if not dedupe:
        return
    inputs = np.frombuffer(ledger.inputs, np.int32)
    digests = np.frombuffer(ledger.digests, dtype=f"S{hygiene.DIGEST}")
    for i, why in hygiene.duplicate_reasons(digests, labels[inputs], roles[inputs]).items():
        reasons[inputs[i]] = CODE[why]


def _prepared(
    ledger: _Ledger,
    roles: np.ndarray,
    written: store.ShardWriter,
    encoding: Encoding,
    extra_classes: Sequence[str],
) -> Prepared:
    """The faces kept, of those ``written`` to the shards: the ones no cleaning step removed."""
    inputs = np.frombuffer(ledger.inputs, np.int32)
    rows = np.flatnonzero(np.frombuffer(ledger.reasons, np.int8)[inputs] == 0).astype(np.int32)
    kept = inputs[rows]
    classes = len(encoding.classes) + len(extra_classes)
    votes = None
    if ledger.has_votes:
        votes = np.frombuffer(ledger.votes, np.float32).reshape(-1, classes)[rows].copy()
    return Prepared(
        faces=store.Faces(written.folder, written.shape, written.counts, rows),
        labels=np.frombuffer(ledger.labels, np.int16)[kept],
        roles=roles[kept],
        encoding=encoding,
        extra_classes=tuple(extra_classes),
        votes=votes,
    )


def _write_manifest(draft: Path, target: Path, ledger: _Ledger) -> None:
    """The draft's rows (path, class, part, error), each with what became of it, streamed."""
    reasons = np.frombuffer(ledger.reasons, np.int8)
    with (
        draft.open(encoding="utf-8", newline="") as source,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        rows = csv.writer(out, lineterminator="\n")
        rows.writerow(MANIFEST_COLUMNS)
        for code, (path, label, part, error) in zip(reasons, csv.reader(source), strict=True):
            why = REMOVAL_STEPS[code - 1] if code else ""
            detail = error if why == UNREADABLE else ""
            rows.writerow(
                [
                    path,
                    label,
                    part,
                    "skipped" if why else "used",
                    ": ".join(filter(None, [why, detail])),
                ]
            )
    draft.unlink()


def _text(name: str) -> str:
    """A path as UTF-8 text: bytes of a file name in another encoding (kept by Python as lone
    surrogates, which cannot be written) show as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _report(
    ledger: _Ledger, roles: np.ndarray, roles_by_name: dict[str, str], classes: Sequence[str]
) -> dict[str, object]:
    """Class counts before and after each cleaning step, and per part at the end."""
    labels = np.frombuffer(ledger.labels, np.int16)
    reasons = np.frombuffer(ledger.reasons, np.int8)

    def counts(chosen: np.ndarray) -> dict[str, int]:
        tally = np.bincount(labels[chosen & (labels >= 0)], minlength=len(classes))
        return {name: int(tally[i]) for i, name in enumerate(classes)}

    alive = np.ones(len(labels), bool)
    steps: list[dict[str, object]] = [
        {"step": "read", "total": len(labels), "per_class": counts(alive)}
    ]
    for code, step in enumerate(REMOVAL_STEPS, start=1):
        removed = alive & (reasons == code)
        if not removed.any():
            continue
        alive &= ~removed
        steps.append(
            {
                "step": f"after removing {step}",
                "removed": int(removed.sum()),
                "total": int(alive.sum()),
                "per_class": counts(alive),
            }
        )
    by_part = {
        hygiene.ROLES[code] or "all": counts(alive & (roles == code))
        for code in sorted(set(roles[alive].tolist()), key=lambda c: hygiene.ROLES[c])
    }
    return {"parts": roles_by_name, "steps": steps, "final_per_part": by_part}
