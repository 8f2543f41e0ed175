"""Videos: frames sampled a few times a second, every face in them classified as in a photo and
followed from frame to frame with a stable id; an annotated copy and each face's emotions over
time."""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from emotions.data.imaging import Box, from_bgr, model_inputs
from emotions.drawing import WHITE
from emotions.errors import UserError
from emotions.files import atomic_path, write_png
from emotions.params import positive_number
from emotions.prediction.drawing import annotate, emotion_timeline
from emotions.prediction.pictures import unique_stem
from emotions.prediction.results import Prediction, classified, faces_by_file
from emotions.prediction.tracking import Tracker
from emotions.progress import progress
from emotions.saved.runtime import Predictor

# FFmpeg would print its own lines for a damaged file ("moov atom not found"), as would OpenCV
# (quietened where a video opens or is written): one warning or error of ours says it.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

DEFAULT_FPS = 5.0  # sampled frames per second: faces change expression more slowly than this
# An annotated video shows at least this many frames a second (its encoder refuses a rate of one
# frame in a thousand seconds): sampled more rarely, it plays faster than the original.
MIN_WRITE_FPS = 1.0
FOURCC = "mp4v"  # MPEG-4 part 2: OpenCV's own FFmpeg writes it everywhere, no extra codec needed
NO_FRAME = "not a readable video (no frame could be decoded)"


class BadVideo(Exception):
    """A video file that cannot be used; the message says why."""


def parse_fps(text: str) -> float:
    """The value of --fps, as argparse's ``type``: a UserError passes through argparse, so a bad
    value is one line, before the model loads."""
    fps = positive_number(text)
    if fps is None:
        raise UserError(f"--fps: expected a number of frames a second above 0, got {text!r}")
    return fps


class VideoFrames:
    """A video file opened for sampling: its frame rate, and its frames at ``fps`` per second (the
    first frame at or after each multiple of 1/fps; every frame when fps exceeds the video's rate),
    each with its time in seconds. Every frame is decoded (grabbed), only the sampled ones
    converted."""

    def __init__(self, path: Path, fps: float) -> None:
        try:
            with path.open("rb") as file:
                if not file.read(1):
                    raise BadVideo("empty file")
        except OSError as err:
            raise BadVideo(f"cannot read file: {err.strerror or err}") from None
        with _quiet_opencv():  # its warning for a damaged file
            self._capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not self._capture.isOpened():
            raise BadVideo("not a readable video")
        rate = positive_number(self._capture.get(cv2.CAP_PROP_FPS))
        if rate is None:
            self._capture.release()
            raise BadVideo("not a readable video (no frame rate)")
        self.rate = rate
        self.fps = fps
        self.size = (
            int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        self.frames = 0  # read so far
        self.last = -math.inf  # the time of the last frame read
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)  # from the header: for progress only
        self.expected = min(round(count), math.ceil(count / self.rate * fps)) if count > 0 else None

    @property
    def duration(self) -> float:
        """Seconds read so far (the whole video's, once read through): to the end of the last
        frame."""
        return max(self.last, 0.0) + 1 / self.rate if self.frames else 0.0

    def _time(self) -> float:
        """The time of the frame just grabbed, in seconds: its timestamp in the container, so that
        a phone's variable-frame-rate video keeps its true times (frame index / average rate drifts
        by a second and more in 20 s of one); the index's time where the container has none, or
        one that goes back."""
        stamp = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
        if not math.isfinite(stamp) or stamp < 0 or stamp <= self.last:
            stamp = max(self.frames / self.rate, self.last + 1e-6)
        return stamp

    @property
    def step(self) -> float:
        """Seconds between two sampled frames."""
        return 1 / min(self.fps, self.rate)

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        due = 0.0
        while self._capture.grab():
            time = self.last = self._time()
            self.frames += 1
            if time + 1e-9 < due:
                continue
            ok, frame = self._capture.retrieve()
            if ok:
                due = (math.floor(time * self.fps + 1e-9) + 1) / self.fps
                yield time, frame

    def __enter__(self) -> VideoFrames:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._capture.release()


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV's own log lines silenced: what goes wrong is said once, by us."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def predict_video(predictor: Predictor, path: Path, fps: float) -> list[Prediction]:
    """One row per face per sampled frame, in time order, each with its face id; or one row with the
    reason there is none (an unreadable file, no frame, no face)."""
    size = predictor.meta.image_size
    classes = predictor.meta.classes
    rows: list[Prediction] = []
    sampled = 0
    try:
        with VideoFrames(path, fps) as video:
            tracker = Tracker()
            for time, frame in progress(video, path.name, total=video.expected, unit="frame"):
                sampled += 1
                # A video frame is a scene, not a face crop: faces are found whatever the model
                # trained on.
                faces = model_inputs(from_bgr(frame, predictor.meta.color), size, face_detect=True)
                ids = tracker.update(time, [box for box, _ in faces if box is not None])
                if not faces:
                    continue
                probabilities = predictor.probabilities(np.stack([image for _, image in faces]))
                rows += [
                    classified(str(path), row, classes, box=box, time=time, face=face)
                    for (box, _), face, row in zip(faces, ids, probabilities, strict=True)
                ]
    except BadVideo as err:
        return [Prediction(str(path), error=str(err))]
    if not sampled:
        return [Prediction(str(path), error=NO_FRAME)]
    return rows or [Prediction(str(path), error=f"no face found in {sampled} sampled frames")]


def _drawn(row: Prediction) -> tuple[Box | None, str, float]:
    """What annotate draws for a face in a frame: its box, its id and top emotion, that emotion's
    probability."""
    assert row.label is not None and row.probabilities is not None  # rows with a face only
    return row.box, f"#{row.face} {row.label}", row.probabilities[row.label]


def _write_video(video: VideoFrames, rows: Sequence[Prediction], target: Path) -> None:
    """The sampled frames with their faces' boxes, ids and labels drawn on, at the sampled rate (so
    as long as the original; ``MIN_WRITE_FPS`` at least), every frame padded with white to the size
    that fits all of its labels (annotate puts the frame at the same place whatever its faces, so
    nothing jumps)."""
    at: dict[float | None, list[Prediction]] = {}
    for row in rows:
        at.setdefault(row.time, []).append(row)
    samples = iter(progress(video, f"annotating {target.name}", total=video.expected, unit="frame"))
    first = next(samples, None)
    if first is None:
        raise BadVideo(NO_FRAME)
    shape = first[1].shape
    height, width = annotate(np.zeros(shape, np.uint8), [_drawn(r) for r in rows]).shape[:2]
    width, height = width + width % 2, height + height % 2  # the encoder needs even sides
    with atomic_path(target) as tmp, _quiet_opencv():
        writer = cv2.VideoWriter(
            str(tmp),
            cv2.VideoWriter.fourcc(*FOURCC),
            max(1 / video.step, MIN_WRITE_FPS),
            (width, height),
        )
        try:
            if not writer.isOpened():
                raise OSError("OpenCV could not write the video")
            written = 0
            for time, frame in itertools.chain([first], samples):
                written += 1
                if frame.shape != shape:  # a stream that changes size midway: keep the first size
                    frame = cv2.resize(frame, (shape[1], shape[0]))
                out = annotate(frame, [_drawn(r) for r in at.get(time, [])])
                writer.write(
                    cv2.copyMakeBorder(
                        out,
                        0,
                        height - out.shape[0],
                        0,
                        width - out.shape[1],
                        cv2.BORDER_CONSTANT,
                        value=WHITE,
                    )
                )
        finally:
            writer.release()
        _check_readable(tmp, written)


def _check_readable(path: Path, frames: int) -> None:
    """OpenCV's writer reports no failure (a full disk leaves a cut, unreadable file): the copy
    must open and hold every frame before it replaces anything."""
    check = cv2.VideoCapture(str(path))
    try:
        count = int(check.get(cv2.CAP_PROP_FRAME_COUNT)) if check.isOpened() else 0
    finally:
        check.release()
    if count < frames:
        raise OSError(f"the video written holds {count} of its {frames} frames")


def write_annotated_videos(
    predictions: Sequence[Prediction], out_dir: Path, fps: float = DEFAULT_FPS
) -> list[Path]:
    """For each video with faces: ``<name>.mp4``, the annotated copy, and ``<name>_emotions.png``,
    each face's emotions over time; the copies written. The video is read a second time, so memory
    stays bounded however long it is."""
    written: list[Path] = []
    used: set[str] = set()
    for path, rows in faces_by_file(predictions, videos=True).items():
        name = unique_stem(path, used)
        classes = list(rows[0].probabilities or ())
        faces: dict[int | None, list[tuple[float, list[float]]]] = {}
        for r in rows:
            faces.setdefault(r.face, []).append(
                (r.time or 0.0, [(r.probabilities or {})[c] for c in classes])
            )
        try:
            with VideoFrames(Path(path), fps) as video:
                _write_video(video, rows, out_dir / f"{name}.mp4")
                timeline = emotion_timeline(
                    video.duration, video.step, classes, [(f or 0, s) for f, s in faces.items()]
                )
        except BadVideo:  # changed or gone since it was classified
            continue
        write_png(out_dir / f"{name}_emotions.png", timeline)
        written.append(out_dir / f"{name}.mp4")
    return written
