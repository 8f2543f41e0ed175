"""Data hygiene: near-blank images, exact duplicates, conflicting labels, and test images leaking
into training. Real face data sets (FER-2013 among them) have all four."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

# Part roles, the more held-out the later: an image in test and in train stays in test. "": none.
ROLES = ("", "train", "val", "test")
DIGEST = 16  # bytes of a face's content hash

BLANK = "near-blank"
DUPLICATE = "duplicate"
CONFLICT = "conflicting labels"
LEAK = "also in a held-out part"
STEPS = (BLANK, DUPLICATE, CONFLICT, LEAK)


def is_blank(gray: np.ndarray, min_std: float) -> bool:
    """Almost uniform pixels carry no expression (FER-2013 has a few all-grey images). OpenCV's
    deviation, not numpy's: that one makes a float64 copy, 8 bytes a pixel of a large photo."""
    return min_std > 0 and float(cv2.meanStdDev(gray)[1][0, 0]) < min_std


def digest(pixels: np.ndarray) -> bytes:
    """Identity of the decoded pixels (``DIGEST`` bytes), so a re-encoded or renamed copy is still
    a duplicate."""
    content = repr(pixels.shape).encode() + pixels.tobytes()
    return hashlib.blake2b(content, digest_size=DIGEST).digest()


def duplicate_reasons(digests: np.ndarray, labels: np.ndarray, roles: np.ndarray) -> dict[int, str]:
    """Why each image that must go must go, by its index; every other image stays.

    If the copies of one image disagree on the label, every copy goes, in every part: the label
    cannot be trusted. Otherwise only the most held-out part keeps it (a test image also in train is
    removed from train), and within that part one copy stays. Only the groups of copies are looked
    at one by one: memory follows the duplicates, not the images.
    """
    reasons: dict[int, str] = {}
    _, group, sizes = np.unique(digests, return_inverse=True, return_counts=True)
    copied = np.flatnonzero(sizes[group] > 1)
    order = copied[np.argsort(group[copied], kind="stable")]
    for members in np.split(order, np.flatnonzero(np.diff(group[order])) + 1) if len(order) else []:
        if len(set(labels[members].tolist())) > 1:
            reasons.update((int(i), CONFLICT) for i in members)
            continue
        # a code of ROLES: the more held-out, the higher
        priority = [int(roles[i]) for i in members]
        top = max(priority)
        keepers = [int(i) for i, rank in zip(members, priority, strict=True) if rank == top]
        reasons.update(
            (int(i), LEAK) for i, rank in zip(members, priority, strict=True) if rank < top
        )
        reasons.update((i, DUPLICATE) for i in keepers[1:])
    return reasons
