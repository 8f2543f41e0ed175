"""Distillation: a trained model's probabilities on the training faces, computed once before the
fit and mixed into the targets, so a quick recipe learns from a long one's answers as well as from
the single noisy label."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from emotions.data.store import Prepared
from emotions.errors import UserError
from emotions.saved import bundle
from emotions.saved.runtime import Predictor


def probabilities(teacher: Path, prepared: Prepared, rows: np.ndarray) -> np.ndarray:
    """The teacher's probabilities for the faces ``rows`` over the student's classes (its own
    other classes dropped and the rest renormalised), (len(rows), classes) float32."""
    try:
        predictor = Predictor(teacher)
    except UserError as err:
        raise UserError(f"train.teacher: {err}") from None
    taught = predictor.meta
    bundle.check_faces(f"train.teacher: {teacher}", taught, prepared.encoding)
    missing = [name for name in prepared.all_classes if name not in taught.classes]
    if missing:
        raise UserError(
            f"train.teacher: {teacher} knows no class {', '.join(map(repr, missing))} (its "
            f"classes: {', '.join(taught.classes)})"
        )
    columns = [taught.classes.index(name) for name in prepared.all_classes]
    started = time.perf_counter()
    answers = predictor.stored(prepared.faces, rows)[:, columns]
    out = answers / np.maximum(answers.sum(axis=1, keepdims=True), 1e-12)
    print(
        f"train: the teacher {teacher} answered for {len(rows)} training faces in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return out.astype(np.float32)
