"""Data hygiene: near-blank images, exact duplicates, conflicting labels, and test images leaking
into training. Real face data sets (FER-2013 among them) have all four."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

import cv2
import numpy as np

# The more held-out a part, the more it is trusted: an image in test and in train stays in test.
PART_PRIORITY = {"test": 3, "val": 2, "train": 1, "": 0}

BLANK = "near-blank"
DUPLICATE = "duplicate"
CONFLICT = "conflicting labels"
LEAK = "also in a held-out part"
STEPS = (BLANK, DUPLICATE, CONFLICT, LEAK)


def is_blank(gray: np.ndarray, min_std: float) -> bool:
    """Almost uniform pixels carry no expression (FER-2013 has a few all-grey images). OpenCV's
    deviation, not numpy's: that one makes a float64 copy, 8 bytes a pixel of a large photo."""
    return min_std > 0 and float(cv2.meanStdDev(gray)[1][0, 0]) < min_std


def digest(gray: np.ndarray) -> str:
    """Identity of the decoded pixels, so a re-encoded or renamed copy is still a duplicate."""
    return hashlib.sha1(repr(gray.shape).encode() + gray.tobytes()).hexdigest()


def duplicate_reasons(
    digests: Sequence[str], labels: Sequence[str], roles: Sequence[str]
) -> list[str | None]:
    """Why each image must go (or None to keep it).

    If the copies of one image disagree on the label, every copy goes, in every part: the label
    cannot be trusted. Otherwise only the most held-out part keeps it (a test image also in train is
    removed from train), and within that part one copy stays.
    """
    reasons: list[str | None] = [None] * len(digests)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(digests):
        groups[key].append(index)
    for members in groups.values():
        if len(members) == 1:
            continue
        if len({labels[i] for i in members}) > 1:
            for i in members:
                reasons[i] = CONFLICT
            continue
        top = max(PART_PRIORITY[roles[i]] for i in members)
        keepers = [i for i in members if PART_PRIORITY[roles[i]] == top]
        for i in members:
            if PART_PRIORITY[roles[i]] < top:
                reasons[i] = LEAK
        for i in keepers[1:]:
            reasons[i] = DUPLICATE
    return reasons
