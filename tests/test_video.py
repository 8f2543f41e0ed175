"""Videos: sampling, face tracking, reports and annotated copies, on short videos the tests write
with OpenCV (faces drawn by the sample generator, moving across small frames)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotions.data.encoding import Encoding
from emotions.data.imaging import detect_faces
from emotions.demo.clips import SEEDS, Face, Shot, write_clip
from emotions.demo.faces import draw_face
from emotions.errors import UserError
from emotions.prediction.classify import predict_all
from emotions.prediction.drawing import annotate
from emotions.prediction.formats import as_csv, as_json, as_summary, as_table
from emotions.prediction.inputs import expand_inputs
from emotions.prediction.results import Prediction, summarise
from emotions.prediction.tracking import MEMORY, Tracker
from emotions.prediction.video import VideoFrames, predict_video, write_annotated_videos
from tests.conftest import CLASSES, ROOT, shape_image, write_image

FPS = 30.0
SIZE = (320, 240)


class BrightnessModel:
    """A stand-in for the trained model, for fast tests: a face's probabilities follow its
    brightness."""

    meta = Encoding(CLASSES, 16, face_detect=False)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        mean = images.reshape(len(images), -1).mean(axis=1)
        scores = np.stack([mean, 1 - mean, np.full_like(mean, 0.3)], axis=1) ** 4
        return (scores / scores.sum(axis=1, keepdims=True)).astype(np.float32)


def clip(path: Path, *shots: Shot) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_clip(path, shots, SIZE, FPS)
    return path


def moving(expression: str, start: tuple[int, int], end: tuple[int, int]) -> Face:
    return Face(expression, start, end)


def test_drawn_faces_are_found_by_the_haar_cascade_wherever_they_are() -> None:
    for expression, seed in SEEDS.items():
        face = draw_face(expression, np.random.default_rng(seed), 80)
        for x, y in [(0, 0), (37, 61), (120, 80), (240, 160)]:
            frame = np.full((SIZE[1], SIZE[0]), 50, np.uint8)
            frame[y : y + 80, x : x + 80] = face
            [(bx, by, bw, bh)] = detect_faces(frame)
            assert bx <= x + 40 <= bx + bw and by <= y + 40 <= by + bh, (expression, x, y)


@pytest.mark.parametrize(
    ("fps", "expected"),
    [
        (5, [k / 5 for k in range(15)]),  # every 6th frame
        (
            4,
            [
                0,
                8 / 30,
                15 / 30,
                23 / 30,
                1,
                38 / 30,
                45 / 30,
                53 / 30,
                2,
                68 / 30,
                75 / 30,
                83 / 30,
            ],
        ),  # the first at or after k/4
        (0.5, [0, 2]),
        (100, [k / 30 for k in range(90)]),  # above the video's rate: every frame, once
    ],
)
def test_sampled_frames_are_at_the_asked_rate(
    tmp_path: Path, fps: float, expected: list[float]
) -> None:
    video = clip(tmp_path / "clip.mp4", Shot(3.0, (moving("happy", (0, 0), (200, 100)),)))
    with VideoFrames(video, fps) as frames:
        times = [time for time, _ in frames]
        assert frames.duration == pytest.approx(3.0)
    assert times == pytest.approx(expected)


def test_tracker_keeps_an_id_while_a_face_moves_and_gives_new_faces_new_ids() -> None:
    tracker = Tracker()
    assert tracker.update(0.0, [(10, 10, 50, 50)]) == [1]
    assert tracker.update(0.2, [(40, 20, 52, 52)]) == [1]  # moved about half its width
    assert tracker.update(0.4, [(250, 20, 50, 50), (60, 25, 50, 50)]) == [
        2,
        1,
    ]  # a second face enters
    assert tracker.update(0.6, []) == []  # both missed once
    assert tracker.update(0.8, [(70, 25, 50, 50), (250, 20, 50, 50)]) == [1, 2]
    assert tracker.update(1.0, [(75, 25, 50, 50), (75, 25, 200, 200)]) == [
        1,
        3,
    ]  # four times larger: another face
    assert tracker.update(1.0 + MEMORY + 0.2, [(75, 25, 50, 50)]) == [
        4
    ]  # gone too long: back, it is new


def test_tracker_matches_the_nearest_pairs_first() -> None:
    tracker = Tracker()
    assert tracker.update(0.0, [(0, 0, 40, 40), (50, 0, 40, 40)]) == [1, 2]
    # Both moved right by 20: the box at 20 is within reach of both faces, but nearer to face 1.
    assert tracker.update(0.2, [(70, 0, 40, 40), (20, 0, 40, 40)]) == [2, 1]


def test_a_moving_face_keeps_its_id_at_the_times_sampled(tmp_path: Path) -> None:
    video = clip(tmp_path / "walk.mp4", Shot(2.0, (moving("happy", (0, 20), (230, 150)),)))
    rows = predict_video(BrightnessModel(), video, 5)
    assert [r.time for r in rows] == pytest.approx(
        [k / 5 for k in range(10)]
    )  # found in every sampled frame
    assert {r.face for r in rows} == {1}
    xs = [r.box[0] for r in rows if r.box]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 180  # the box followed the face across the frame


def test_a_cut_a_frame_without_faces_and_two_faces_at_once(tmp_path: Path) -> None:
    video = clip(
        tmp_path / "cuts.avi",
        Shot(1.0, (moving("happy", (10, 20), (40, 30)),)),
        Shot(
            1.0, (moving("sad", (200, 100), (230, 150)),)
        ),  # cut: the happy face leaves, another enters
        Shot(0.4),  # nobody
        Shot(1.0, (moving("angry", (10, 140), (40, 140)), moving("happy", (150, 10), (150, 40)))),
    )
    rows = predict_video(BrightnessModel(), video, 5)
    by_time: dict[float, set[int | None]] = {}
    for r in rows:
        by_time.setdefault(round(r.time or 0, 3), set()).add(r.face)
    assert [by_time.get(round(k / 5, 3)) for k in range(17)] == [{1}] * 5 + [{2}] * 5 + [
        None
    ] * 2 + [{3, 4}] * 5


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (np.random.default_rng(0).bytes(5000), "not a readable video"),
        (b"", "empty file"),
        (None, "no face found in 10 sampled frames"),  # every frame blank
    ],
)
def test_unusable_videos_are_reported(tmp_path: Path, content: bytes | None, error: str) -> None:
    video = tmp_path / "bad.mp4"
    if content is None:
        clip(video, Shot(2.0))
    else:
        video.write_bytes(content)
    assert predict_video(BrightnessModel(), video, 5) == [Prediction(str(video), error=error)]


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan")])
def test_a_video_without_a_frame_rate_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rate: float
) -> None:
    """OpenCV gives a rate of 0 (or worse) for some broken headers; FFmpeg guesses one for every
    file made here, so the capture is made to answer as for such a file."""

    real = cv2.VideoCapture

    class NoRate:  # OpenCV's own class cannot be subclassed
        def __init__(self, *args: object) -> None:
            self.capture = real(*args)

        def get(self, prop: int) -> float:
            return rate if prop == cv2.CAP_PROP_FPS else self.capture.get(prop)

        def __getattr__(self, name: str) -> object:
            return getattr(self.capture, name)

    video = clip(tmp_path / "norate.mp4", Shot(1.0))
    monkeypatch.setattr("emotions.prediction.video.cv2.VideoCapture", NoRate)
    assert predict_video(BrightnessModel(), video, 5) == [
        Prediction(str(video), error="not a readable video (no frame rate)")
    ]


def test_folders_and_mixed_inputs_keep_their_order(tmp_path: Path) -> None:
    clip(tmp_path / "in" / "b.mp4", Shot(0.5, (moving("sad", (100, 50), (100, 50)),)))
    write_image(tmp_path / "in" / "a.png", shape_image(0))
    write_image(tmp_path / "in" / "c.png", shape_image(1))
    (tmp_path / "in" / "notes.txt").write_text("neither")
    inputs = expand_inputs([str(tmp_path / "in")])
    assert [p.name for p, _ in inputs] == ["a.png", "b.mp4", "c.png"]
    rows = predict_all(BrightnessModel(), inputs, 5)  # type: ignore[arg-type]
    assert [(Path(r.path).name, r.time) for r in rows] == [
        ("a.png", None),
        ("b.mp4", 0.0),
        ("b.mp4", 0.2),
        ("b.mp4", 0.4),
        ("c.png", None),
    ]


def face_rows(path: str, labels: list[str], face: int = 1) -> list[Prediction]:
    return [
        Prediction(
            path,
            label,
            {c: 0.8 if c == label else 0.1 for c in CLASSES},
            box=(1, 2, 30, 30),
            time=k / 5,
            face=face,
        )
        for k, label in enumerate(labels)
    ]


def test_reports_give_times_ids_and_each_faces_share_of_each_emotion() -> None:
    rows = [
        Prediction("photo.png", "sad", {"angry": 0.1, "happy": 0.2, "sad": 0.7}),
        *face_rows("clip.mp4", ["happy", "happy", "sad"], face=1),
        *face_rows("clip.mp4", ["angry"] * 7, face=2),
        Prediction("bad.mp4", error="not a readable video"),
    ]
    [one, two] = summarise(rows)
    assert (one.face, one.samples, one.first, one.last) == (1, 3, 0.0, 0.4)
    assert one.shares == pytest.approx({"angry": 0, "happy": 2 / 3, "sad": 1 / 3})
    assert sum(one.shares.values()) == pytest.approx(1) and sum(
        two.shares.values()
    ) == pytest.approx(1)
    entries = json.loads(as_json(rows))
    assert entries[0] == {
        "path": "photo.png",
        "label": "sad",
        "probabilities": {"angry": 0.1, "happy": 0.2, "sad": 0.7},
    }
    assert entries[1] == {
        "path": "clip.mp4",
        "time": 0.0,
        "face": 1,
        "label": "happy",
        "probabilities": {"angry": 0.1, "happy": 0.8, "sad": 0.1},
        "box": [1, 2, 30, 30],
    }
    summaries = [e for e in entries if "shares" in e]
    assert entries.index(summaries[0]) == 11  # after the video's rows
    assert [(s["face"], s["samples"], sum(s["shares"].values())) for s in summaries] == [
        (1, 3, pytest.approx(1)),
        (2, 7, 1),
    ]
    assert entries[-1] == {"path": "bad.mp4", "error": "not a readable video"}
    lines = as_csv(rows, CLASSES).splitlines()
    assert lines[:3] == [
        "path,time,face,label,angry,happy,sad,box,error",
        "photo.png,,,sad,0.1000,0.2000,0.7000,,",
        "clip.mp4,0.000,1,happy,0.1000,0.8000,0.1000,1 2 30 30,",
    ]
    table = as_table(rows, CLASSES).splitlines()
    assert table[0].split() == ["image", "time", "face", "emotion", *CLASSES]
    assert table[4].split()[3:6] == ["0.400", "1", "sad"]
    assert as_summary(rows).splitlines() == [
        "clip.mp4 face 1: 3 frames from 0.00 s to 0.40 s, happy 67%, sad 33%, angry 0%",
        "clip.mp4 face 2: 7 frames from 0.00 s to 1.20 s, angry 100%, happy 0%, sad 0%",
    ]
    images_only = [rows[0]]
    assert (
        as_csv(images_only, CLASSES).splitlines()[0] == "path,label,angry,happy,sad,box,error"
    )  # as before videos
    assert as_summary(images_only) == ""


def test_a_rarely_sampled_video_is_annotated_at_one_frame_a_second_without_opencv_noise(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """One frame in a thousand seconds: the encoder refused that rate with OpenCV's own errors."""
    video = clip(tmp_path / "slow.mp4", Shot(1.0, (moving("angry", (0, 50), (20, 50)),)))
    rows = predict_video(BrightnessModel(), video, 0.001)
    [written] = write_annotated_videos(rows, tmp_path / "out", 0.001)
    copy = cv2.VideoCapture(str(written))
    assert copy.get(cv2.CAP_PROP_FPS) == 1 and copy.read()[0] and not copy.read()[0]
    assert "ERROR" not in capfd.readouterr().err


def with_frame_durations(path: Path, durations: list[int]) -> Path:
    """The MP4 file OpenCV wrote (moov after mdat, one constant frame duration) made a variable-
    rate one, as phones record: its time-to-sample table (stts) replaced by one entry per frame,
    in the track's time units, and the sizes of the boxes that hold it grown to match."""
    data = bytearray(path.read_bytes())
    table = struct.pack(">II", 0, len(durations)) + b"".join(
        struct.pack(">II", 1, d) for d in durations
    )

    def rewrite(start: int, end: int) -> int:
        """Rewrite the boxes in data[start:end]; returns how many bytes they grew."""
        at, grown = start, 0
        while at < end + grown:
            size, kind = struct.unpack(">I4s", data[at : at + 8])
            growth = 0
            if kind == b"stts":
                data[at + 8 : at + size] = table
                growth = len(table) - (size - 8)
            elif kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
                growth = rewrite(at + 8, at + size)
            if growth:
                struct.pack_into(">I", data, at, size + growth)
            at += size + growth
            grown += growth
        return grown

    rewrite(0, len(data))
    path.write_bytes(bytes(data))
    return path


def test_a_variable_frame_rate_video_keeps_its_true_frame_times(tmp_path: Path) -> None:
    """A quarter of a second of frames at 60 a second, then at 20: frame index / average rate
    would put the 16th frame at 0.5 s instead of 0.25."""
    video = clip(tmp_path / "phone.mp4", Shot(1.0, (moving("angry", (0, 50), (20, 50)),)))
    mdhd = video.read_bytes().index(b"mdhd")
    units = struct.unpack(">I", video.read_bytes()[mdhd + 16 : mdhd + 20])[0]  # a second
    durations = [units // 60] * 15 + [units // 20] * 15
    with_frame_durations(video, durations)
    with VideoFrames(video, 1000) as frames:
        times = [time for time, _ in frames]
        duration = frames.duration
    expected = np.concatenate([[0], np.cumsum(durations)[:-1]]) / units
    np.testing.assert_allclose(times, expected, atol=1e-3)
    assert duration == pytest.approx(expected[-1] + 1 / frames.rate)


def test_annotated_video_has_a_frame_per_sample_all_of_one_size(tmp_path: Path) -> None:
    video = clip(
        tmp_path / "two.mp4",
        Shot(1.0, (moving("angry", (0, 50), (20, 50)), moving("happy", (230, 0), (200, 0)))),
        Shot(0.6),
        Shot(
            1.0, (moving("sad", (230, 150), (230, 150)),)
        ),  # its label reaches past the frame's right edge
    )
    rows = predict_video(BrightnessModel(), video, 4)
    [written] = write_annotated_videos(rows, tmp_path / "out", 4)
    assert written == tmp_path / "out" / "two.mp4"
    copy = cv2.VideoCapture(str(written))
    assert copy.get(cv2.CAP_PROP_FPS) == 4
    frames = []
    while (frame := copy.read()[1]) is not None:
        frames.append(frame)
    assert len(frames) == 11  # 2.6 s at 4 a second
    height, width = frames[0].shape[:2]
    assert height > SIZE[1] and width > SIZE[0] + 30 and width % 2 == 0 and height % 2 == 0
    assert {f.shape for f in frames} == {(height, width, 3)}
    timeline = cv2.imread(str(tmp_path / "out" / "two_emotions.png"))
    assert timeline.shape[1] == 900
    assert len({r.face for r in rows}) == 3 and timeline.shape[0] > 3 * 100  # a panel per face


def test_frames_sit_at_the_same_place_whatever_their_faces() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    bare = annotate(frame, [])
    labelled = annotate(frame, [((100, 0, 50, 50), "#12 surprise", 0.99)])
    assert bare.shape[1] < labelled.shape[1] and bare.shape[0] == labelled.shape[0]
    _, _, _, (left, top) = cv2.minMaxLoc(cv2.matchTemplate(bare, frame, cv2.TM_CCOEFF_NORMED))
    assert np.array_equal(bare[top : top + 120, left : left + 160], frame)
    assert np.array_equal(
        labelled[top + 10 : top + 120, left : left + 90], frame[10:, :90]
    )  # away from the box


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan"])
def test_a_bad_sampling_rate_is_one_error_line(tmp_path: Path, value: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stages.predict",
            "clip.mp4",
            "--fps",
            value,
            "--model-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == f"error: --fps: expected a number of frames a second above 0, got '{value}'\n"
    )


def run_predict(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stages.predict", *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.mark.slow
def test_videos_through_the_command_with_a_trained_model(model_dir: Path, tmp_path: Path) -> None:
    video = clip(
        tmp_path / "faces.mp4",
        Shot(1.0, (moving("happy", (10, 20), (40, 20)),)),
        Shot(1.0, (moving("angry", (120, 140), (160, 140)), moving("sad", (230, 10), (230, 60)))),
    )
    (tmp_path / "corrupt.mp4").write_bytes(np.random.default_rng(1).bytes(3000))
    (tmp_path / "empty.avi").write_bytes(b"")
    blank = clip(tmp_path / "blank.mkv", Shot(1.0))
    model = ["--model-dir", str(model_dir)]
    first = run_predict(str(video), "--json", "--fps", "4", *model)
    assert first.returncode == 0, first.stderr
    assert (
        run_predict(str(video), "--json", "--fps", "4", *model).stdout == first.stdout
    )  # reproducible
    entries = json.loads(first.stdout)
    rows = [e for e in entries if "time" in e]
    assert [round(r["time"], 3) for r in rows if r["face"] == 1] == [0, 0.267, 0.5, 0.767]
    assert {r["face"] for r in rows} == {1, 2, 3} and all(r["label"] in CLASSES for r in rows)
    shares = [e["shares"] for e in entries if "shares" in e]
    assert len(shares) == 3 and all(sum(s.values()) == pytest.approx(1, abs=1e-3) for s in shares)

    both = run_predict(
        str(video),
        str(tmp_path / "corrupt.mp4"),
        str(tmp_path / "empty.avi"),
        str(blank),
        "--annotate",
        str(tmp_path / "out"),
        *model,
    )
    assert both.returncode == 0, both.stderr
    assert both.stdout.count(f"{video} face ") == 3  # the summary, after the table
    assert both.stderr.splitlines() == [
        "predict: 0 annotated images, 1 annotated videos and their emotion timelines in "
        f"{tmp_path / 'out'}",
        f"warning: {tmp_path / 'corrupt.mp4'}: not a readable video",
        f"warning: {tmp_path / 'empty.avi'}: empty file",
        f"warning: {blank}: no face found in 5 sampled frames",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "faces.mp4",
        "faces_emotions.png",
    ]
    none = run_predict(str(tmp_path / "corrupt.mp4"), "--csv", *model)
    assert (
        none.returncode == 1
        and none.stderr == f"warning: {tmp_path / 'corrupt.mp4'}: not a readable video\n"
    )


def test_an_annotated_video_that_did_not_reach_the_disk_replaces_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenCV's writer reports no failure (a full disk leaves a cut file): the copy is opened and
    its frames counted before it replaces the previous one."""
    video = clip(tmp_path / "one.mp4", Shot(1.0, (moving("happy", (100, 50), (100, 50)),)))
    rows = predict_video(BrightnessModel(), video, 4)
    [written] = write_annotated_videos(rows, tmp_path / "out", 4)
    before = written.read_bytes()

    class Lost:
        """Opens, takes every frame, keeps none: what a full disk leaves."""

        fourcc = staticmethod(cv2.VideoWriter.fourcc)

        def __init__(self, path: str, *args: object) -> None:
            Path(path).write_bytes(b"")

        def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
            return True

        def write(self, image: np.ndarray) -> None:
            pass

        def release(self) -> None:
            pass

    monkeypatch.setattr("emotions.prediction.video.cv2.VideoWriter", Lost)
    with pytest.raises(
        UserError, match=r"one\.mp4: cannot write \(the video written holds 0 of its 4 frames\)"
    ):
        write_annotated_videos(rows, tmp_path / "out", 4)
    assert written.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.mp4", "one_emotions.png"]
