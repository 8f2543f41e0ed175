from __future__ import annotations

import numpy as np
import pytest

from emotions.data import hygiene
from emotions.data.hygiene import CONFLICT, DUPLICATE, LEAK, ROLES

TRAIN, TEST = ROLES.index("train"), ROLES.index("test")


def digests(*names: bytes) -> np.ndarray:
    return np.array([name.ljust(hygiene.DIGEST, b"-") for name in names], f"S{hygiene.DIGEST}")


@pytest.mark.parametrize("chunk", [1, 3, 2**16])
def test_copies_are_found_across_chunks_by_their_whole_hash(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Faces 0, 4, 6 are one image, 2 and 5 another with two labels; 1 and 3 share the first eight
    bytes of their hash (the sort key) but are different images, and both stay."""
    monkeypatch.setattr(hygiene, "CHUNK", chunk)
    hashes = digests(b"A", b"sameKEY!one", b"B", b"sameKEY!two", b"A", b"B", b"A")
    labels = np.array([0, 1, 2, 1, 0, 1, 0])
    roles = np.array([TRAIN, TRAIN, TRAIN, TRAIN, TEST, TRAIN, TEST], np.int8)
    assert hygiene.duplicate_reasons(hashes, labels, roles) == {
        0: LEAK,  # the copy in train goes: test keeps the image
        6: DUPLICATE,  # of the two test copies, the first stays
        2: CONFLICT,
        5: CONFLICT,
    }


def test_no_copies_and_no_faces_give_no_reasons() -> None:
    assert hygiene.duplicate_reasons(digests(b"A", b"B"), np.zeros(2), np.zeros(2, np.int8)) == {}
    assert hygiene.duplicate_reasons(digests(), np.zeros(0), np.zeros(0, np.int8)) == {}
