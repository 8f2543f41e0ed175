"""Synthetic videos, for the tests and the video benchmark: drawn faces (``synthetic.draw_face``)
moving in straight lines over a plain background, shot after shot, written with OpenCV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotions.demo.faces import draw_face

# draw_face varies each face's background and pose, and OpenCV's Haar cascade misses nearly every
# face
# drawn on a background lighter than its skin, and some others. These draws (a seed per expression)
# are
# found wherever they sit in a 320x240 frame, even against its edges: placed every 7 pixels at 64,
# 80
# and 100 pixels wide, all but one of 7,317 placements (happy, 64 pixels).
SEEDS = {"angry": 4, "happy": 4, "sad": 10}


@dataclass(frozen=True)
class Face:
    """A face moving in a straight line during a shot: its top-left corner at the shot's start and
    end."""

    expression: str
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True)
class Shot:
    seconds: float
    faces: tuple[Face, ...] = ()


def write_clip(
    path: Path,
    shots: Sequence[Shot],
    size: tuple[int, int] = (320, 240),
    fps: float = 30.0,
    face_size: int = 80,
) -> int:
    """Write the shots one after another as a video (MPEG-4 in ``.mp4``, Motion JPEG in ``.avi``) of
    ``size`` (width, height) at ``fps``; the number of frames written. The same arguments give the
    same frames."""
    fourcc = cv2.VideoWriter.fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV could not write the video")
    tiles = {e: draw_face(e, np.random.default_rng(seed), face_size) for e, seed in SEEDS.items()}
    frames = 0
    try:
        for shot in shots:
            count = round(shot.seconds * fps)
            for k in range(count):
                frame = np.full((size[1], size[0]), 50, np.uint8)
                t = k / max(1, count - 1)
                for face in shot.faces:
                    x = round(face.start[0] + t * (face.end[0] - face.start[0]))
                    y = round(face.start[1] + t * (face.end[1] - face.start[1]))
                    frame[y : y + face_size, x : x + face_size] = tiles[face.expression]
                writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
                frames += 1
    finally:
        writer.release()
    return frames
