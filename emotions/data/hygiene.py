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
    """Why each image that must go must go, by its index; every other image stays. ``digests``
    are ``DIGEST``-byte hashes, ``roles`` codes of ``ROLES``.

    If the copies of one image disagree on the label, every copy goes, in every part: the label
    cannot be trusted. Otherwise only the most held-out part keeps it (a test image also in train is
    removed from train), and within that part one copy stays. The images are sorted by the first
    eight bytes of their hash, so that what is held besides them is a few bytes an image, and only
    the groups of copies are looked at one by one.
    """
    reasons: dict[int, str] = {}
    if len(digests) < 2:
        return reasons
    keys = np.frombuffer(
        digests.tobytes() if not digests.flags.c_contiguous else digests, np.uint64
    )
    keys = keys.reshape(len(digests), DIGEST // 8)[:, 0]
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    for run in np.split(same, np.flatnonzero(np.diff(same) > 1) + 1) if len(same) else []:
        candidates = np.sort(order[run[0] : run[-1] + 2])
        by_digest: dict[bytes, list[int]] = {}
        for i in candidates.tolist():
            by_digest.setdefault(bytes(digests[i]), []).append(i)
        for members in by_digest.values():
            if len(members) > 1:
                reasons.update(_copies(members, labels, roles))
    return reasons


def _copies(members: list[int], labels: np.ndarray, roles: np.ndarray) -> dict[int, str]:
    """The reasons for one group of copies (indices in order)."""
    if len({int(labels[i]) for i in members}) > 1:
        return dict.fromkeys(members, CONFLICT)
    priority = [int(roles[i]) for i in members]  # a code of ROLES: the more held-out, the higher
    top = max(priority)
    keepers = [i for i, rank in zip(members, priority, strict=True) if rank == top]
    reasons = {i: LEAK for i, rank in zip(members, priority, strict=True) if rank < top}
    reasons.update(dict.fromkeys(keepers[1:], DUPLICATE))
    return reasons
