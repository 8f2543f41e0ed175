"""Data hygiene: near-blank images, exact duplicates, conflicting labels, and test images leaking
into training. Real face data sets (FER-2013 among them) have all four."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

# Part roles, the more held-out the later: an image in test and in train stays in test. "": none.
ROLES = ("", "train", "val", "test")
TRAIN = ROLES.index("train")
DIGEST = 16  # bytes of a face's content hash
CHUNK = 2**16  # hashes matched at a time against the repeated keys

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
    removed from train), and within that part one copy stays. The first eight bytes of each hash
    are sorted once to find the values that repeat; the images are then matched against those a
    chunk at a time, so that what is held besides the hashes is a few bytes an image, and only the
    images whose key repeats are grouped by their whole hash.
    """
    reasons: dict[int, str] = {}
    keys = np.ascontiguousarray(digests).view(np.uint64)[:: DIGEST // 8]
    ordered = np.sort(keys)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if not len(repeated):
        return reasons
    candidates = np.zeros(len(keys), bool)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        at = np.minimum(np.searchsorted(repeated, chunk), len(repeated) - 1)
        candidates[start : start + CHUNK] = repeated[at] == chunk
    groups: dict[bytes, list[int]] = {}
    for i in np.flatnonzero(candidates).tolist():
        groups.setdefault(bytes(digests[i]), []).append(i)
    for members in groups.values():
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
