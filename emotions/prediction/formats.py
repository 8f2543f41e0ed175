"""Predictions written for people and programs: a table, JSON, CSV, and a summary per video face."""

from __future__ import annotations

import json
from collections.abc import Sequence

from emotions.files import csv_text
from emotions.prediction.results import FaceSummary, Prediction, summarise


def as_summary(predictions: Sequence[Prediction]) -> str:
    """For people, after the table: one line per face of each video (empty without videos)."""
    return "\n".join(
        f"{s.path} face {s.face}: {s.samples} frames from {s.first:.2f} s to {s.last:.2f} s, "
        + ", ".join(
            f"{c} {share:.0%}" for c, share in sorted(s.shares.items(), key=lambda item: -item[1])
        )
        for s in summarise(predictions)
    )


def as_json(predictions: Sequence[Prediction]) -> str:
    """A list of rows, one per image or face; a video's rows carry their time and face id, and are
    followed by one summary per face (path, face, samples, first, last, shares)."""
    summaries: dict[str, list[FaceSummary]] = {}
    for s in summarise(predictions):
        summaries.setdefault(s.path, []).append(s)
    last = {p.path: i for i, p in enumerate(predictions)}
    rows = []
    for i, p in enumerate(predictions):
        row: dict[str, object] = {"path": p.path}
        if p.time is not None:
            row.update(time=round(p.time, 3), face=p.face)
        if p.error:
            row["error"] = p.error
        else:
            row.update(label=p.label, probabilities=p.probabilities)
        if p.box is not None:
            row["box"] = list(p.box)
        rows.append(row)
        if last[p.path] == i:
            rows += [
                {
                    "path": s.path,
                    "face": s.face,
                    "samples": s.samples,
                    "first": round(s.first, 3),
                    "last": round(s.last, 3),
                    "shares": {c: round(share, 4) for c, share in s.shares.items()},
                }
                for s in summaries.get(p.path, [])
            ]
    return json.dumps(rows, indent=2)


def as_csv(predictions: Sequence[Prediction], classes: Sequence[str]) -> str:
    """One row per image or face; with videos among them, each row's time and face id too."""
    videos = any(p.time is not None for p in predictions)
    rows = []
    for p in predictions:
        probs = (
            [f"{p.probabilities[c]:.4f}" for c in classes]
            if p.probabilities
            else [""] * len(classes)
        )
        box = " ".join(map(str, p.box)) if p.box else ""
        when = (
            ([f"{p.time:.3f}", str(p.face)] if p.time is not None else ["", ""]) if videos else []
        )
        rows.append([p.path, *when, p.label or "", *probs, box, p.error or ""])
    return csv_text(
        ["path", *(["time", "face"] if videos else []), "label", *classes, "box", "error"], rows
    )


def as_table(predictions: Sequence[Prediction], classes: Sequence[str]) -> str:
    """A table for people: one row per image (or face, with its box), the top emotion and every
    class's probability; with videos among them, each row's time (seconds) and face id too."""

    def name(p: Prediction) -> str:
        return (
            p.path if p.box is None else f"{p.path} [{p.box[0]},{p.box[1]} {p.box[2]}x{p.box[3]}]"
        )

    def when(p: Prediction) -> str:
        if not videos:
            return ""
        return f"{p.time:>8.3f}  {p.face:>4}  " if p.time is not None else " " * 16

    videos = any(p.time is not None for p in predictions)
    width = max([len("image"), *(len(name(p)) for p in predictions)])
    label_width = max(len("emotion"), *(len(c) for c in classes))
    columns = [max(len(c), 6) for c in classes]
    lines = [
        f"{'image':<{width}}  {'    time  face  ' if videos else ''}{'emotion':<{label_width}}  "
        + "  ".join(f"{c:>{w}}" for c, w in zip(classes, columns, strict=True))
    ]
    for p in predictions:
        if p.probabilities is None:
            lines.append(f"{name(p):<{width}}  {when(p)}error: {p.error}")
            continue
        cells = "  ".join(
            f"{p.probabilities[c]:>{w}.3f}" for c, w in zip(classes, columns, strict=True)
        )
        lines.append(f"{name(p):<{width}}  {when(p)}{p.label:<{label_width}}  {cells}")
    return "\n".join(lines)
