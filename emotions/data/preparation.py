"""Preparation: raw images made into model inputs and cleaned, with a manifest and a data report
that say what was kept, what was dropped and why."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from emotions.data import hygiene, store, votes
from emotions.data.encoding import Encoding
from emotions.data.imaging import model_inputs
from emotions.data.sources import RawImage, SourceSpec, part_roles, read_source
from emotions.data.store import Prepared
from emotions.errors import UserError
from emotions.files import csv_text
from emotions.params import DataParams, PrepareParams
from emotions.progress import progress

MANIFEST_FILE = "manifest.csv"
REPORT_FILE = "report.json"

UNREADABLE = "unreadable"
NO_FACE = "no face found"
REMOVAL_STEPS = (
    UNREADABLE,
    NO_FACE,
    votes.CROWD_NOT_A_FACE,
    votes.CROWD_NO_VOTE,
    votes.NO_VOTES,
    *hygiene.STEPS,
)


@dataclass(frozen=True)
class ManifestRow:
    path: str
    label: str
    part: str
    status: str  # "used" or "skipped"
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """What prepare produced: the faces kept, a manifest row for every input, the data report."""

    prepared: Prepared
    manifest: list[ManifestRow]
    report: dict[str, object]


def from_source(source: Path, data: DataParams, p: PrepareParams) -> Outcome:
    """The prepare stage's work: every image of ``data.classes`` and ``data.extra_classes`` in the
    source, read as the ``data`` params say, then ``prepare``."""
    spec = SourceSpec(
        data.classes + data.extra_classes, data.aliases, data.csv_emotions, data.format, data.votes
    )
    return prepare(read_source(source, spec), data.classes, p, data.extra_classes)


def prepare(
    items: Iterable[RawImage],
    classes: Sequence[str],
    p: PrepareParams,
    extra_classes: Sequence[str] = (),
) -> Outcome:
    """Preprocess every raw image with the shared function, as ``p`` says (size, face detection,
    what to do with a bad file), then clean: see ``hygiene``. Labels index ``classes`` followed by
    ``extra_classes``."""
    seen: list[RawImage] = []  # every item, pixels dropped once used, for the manifest
    reasons: list[str | None] = []
    details: list[str] = []
    inputs: dict[int, np.ndarray] = {}
    digests: dict[int, str] = {}
    for item in progress(items, "prepare", unit="img"):
        index = len(seen)
        seen.append(replace(item, pixels=None))
        reason, detail = None, ""
        if item.pixels is None:
            if p.on_bad_image == "error":
                raise UserError(f"{item.origin}: {item.error} (prepare.on_bad_image is 'error')")
            reason, detail = UNREADABLE, item.error or ""
        elif hygiene.is_blank(item.pixels, p.min_std):
            reason = hygiene.BLANK
        else:
            faces = model_inputs(item.pixels, p.image_size, p.face_detect)
            if faces:
                inputs[index] = faces[0][1]  # the largest face
                digests[index] = hygiene.digest(item.pixels)
            else:
                reason = NO_FACE
        reasons.append(reason)
        details.append(detail)

    # Only items with pixels name the parts: a bad row or file must not invent one (an empty part
    # beside Training would become the test set).
    roles_by_name = part_roles([item.part for item in seen if item.error is None])
    roles = [roles_by_name.get(item.part, "") for item in seen]
    for i, item in enumerate(
        seen
    ):  # the crowd's verdicts keep faces out of training; held-out faces keep their label
        if reasons[i] is None and item.crowd and (not item.label or roles[i] in ("train", "")):
            reasons[i] = item.crowd
    if p.dedupe:
        kept = sorted(inputs)
        for i, why in zip(
            kept,
            hygiene.duplicate_reasons(
                [digests[i] for i in kept], [seen[i].label for i in kept], [roles[i] for i in kept]
            ),
            strict=True,
        ):
            if why is not None:
                reasons[i] = why

    rows = [
        ManifestRow(
            _text(item.origin),
            item.label,
            _text(item.part),
            "skipped" if why else "used",
            ": ".join(filter(None, [why, detail])),
        )
        for item, why, detail in zip(seen, reasons, details, strict=True)
    ]
    used = [i for i, why in enumerate(reasons) if why is None]
    labels = [seen[i].label for i in used]
    every_class = [*classes, *extra_classes]
    for name in every_class:
        if name not in labels:
            raise UserError(
                f"class {name!r}: no usable image left after prepare (see the manifest's reasons)"
            )
    prepared = Prepared(
        images=np.stack([inputs[i] for i in used]).astype(np.float32, copy=False),
        labels=np.asarray([every_class.index(label) for label in labels], dtype=np.int64),
        parts=np.asarray([roles[i] for i in used], dtype="<U5"),
        encoding=Encoding(tuple(classes), p.image_size, p.face_detect),
        extra_classes=tuple(extra_classes),
        votes=_votes([seen[i] for i in used], len(every_class)),
    )
    return Outcome(prepared, rows, _report(seen, reasons, roles, roles_by_name, every_class))


def _votes(items: Sequence[RawImage], num_classes: int) -> np.ndarray | None:
    """(N, classes) crowd votes where the source has votes (zeros for a face without), else None."""
    if all(item.votes is None for item in items):
        return None
    return np.stack(
        [np.zeros(num_classes, np.float32) if item.votes is None else item.votes for item in items]
    )


def _text(name: str) -> str:
    """A path as UTF-8 text: bytes of a file name in another encoding (kept by Python as lone
    surrogates, which cannot be written) show as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _report(
    seen: Sequence[RawImage],
    reasons: Sequence[str | None],
    roles: Sequence[str],
    roles_by_name: dict[str, str],
    classes: Sequence[str],
) -> dict[str, object]:
    """Class counts before and after each cleaning step, and per part at the end."""

    def counts(indices: Iterable[int]) -> dict[str, int]:
        tally = Counter(seen[i].label for i in indices)
        return {name: tally.get(name, 0) for name in classes}

    alive = list(range(len(seen)))
    steps = [{"step": "read", "total": len(alive), "per_class": counts(alive)}]
    for step in REMOVAL_STEPS:
        removed = [i for i in alive if reasons[i] == step]
        if not removed:
            continue
        alive = [i for i in alive if reasons[i] != step]
        steps.append(
            {
                "step": f"after removing {step}",
                "removed": len(removed),
                "total": len(alive),
                "per_class": counts(alive),
            }
        )
    by_part = {
        role or "all": counts(i for i in alive if roles[i] == role)
        for role in sorted(set(roles[i] for i in alive))
    }
    return {"parts": roles_by_name, "steps": steps, "final_per_part": by_part}


def _manifest_csv(rows: Sequence[ManifestRow]) -> str:
    return csv_text(
        ["path", "class", "part", "status", "reason"],
        ([r.path, r.label, r.part, r.status, r.reason] for r in rows),
    )


def save(outcome: Outcome, out_dir: Path) -> None:
    """The prepared data set plus its manifest and data report, in one atomic folder."""
    texts = {
        MANIFEST_FILE: _manifest_csv(outcome.manifest),
        REPORT_FILE: json.dumps(outcome.report, indent=2) + "\n",
    }
    store.save(outcome.prepared, out_dir, texts)
