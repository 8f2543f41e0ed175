"""Following faces from one sampled video frame to the next, so that each face keeps one id while it
stays in view: greedy matching of boxes by centre distance, nearest pairs first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emotions.data.imaging import Box

MAX_STEP = 1.0  # a face moves at most about its own width between two samples to stay the same face
MAX_GROWTH = 1.6  # nor does it grow or shrink by more than this factor between two samples
# seconds: a face missed for longer (turned away, out of frame) counts as gone; back, it is new
MEMORY = 1.0


@dataclass
class _Track:
    face: int
    box: Box
    seen: float


def _centre(box: Box) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2, y + h / 2


def _distance(a: Box, b: Box) -> float | None:
    """How far box ``b`` lies from box ``a``, in face widths (their mean); None when ``b`` is too
    far or of too different a size to be the same face one sample later."""
    width = (a[2] + b[2]) / 2
    if max(a[2], b[2]) > MAX_GROWTH * min(a[2], b[2]):
        return None
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    distance = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / width
    return distance if distance <= MAX_STEP else None


class Tracker:
    """Ids for the faces of one video, given frame after frame in time order; ids start at 1 and a
    new face gets the next one. Deterministic: ties go to the older track and the earlier box."""

    def __init__(self, memory: float = MEMORY) -> None:
        self._memory = memory
        self._tracks: list[_Track] = []
        self._next = 1

    def update(self, time: float, boxes: Sequence[Box]) -> list[int]:
        """The id of each box (in the order given) of the frame at ``time`` seconds."""
        self._tracks = [t for t in self._tracks if time - t.seen <= self._memory + 1e-9]
        pairs = sorted(
            (distance, i, j)
            for i, track in enumerate(self._tracks)
            for j, box in enumerate(boxes)
            if (distance := _distance(track.box, box)) is not None
        )
        ids: list[int | None] = [None] * len(boxes)
        taken: set[int] = set()
        for _, i, j in pairs:
            if i in taken or ids[j] is not None:
                continue
            taken.add(i)
            ids[j] = self._tracks[i].face
            self._tracks[i].box, self._tracks[i].seen = boxes[j], time
        for j, box in enumerate(boxes):
            if ids[j] is None:
                ids[j] = self._next
                self._tracks.append(_Track(self._next, box, time))
                self._next += 1
        return [face for face in ids if face is not None]
