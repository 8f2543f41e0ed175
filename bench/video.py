"""Benchmark of video prediction on one CPU core: how many times faster than real time.

    python bench/video.py [--model-dir models] [--video FILE] [--fps 5] [--runs 3]

Without --video it writes a 640x480, 30 fps, 20-second video of drawn faces (emotions/demo/clips.py:
one face crossing the frame, four seconds without a face, then two faces at once). The process is
pinned to CPU 0 (Linux, as `taskset -c 0` would), OpenCV and onnxruntime run one thread each.
Measured, the median of --runs: predicting (decoding every frame, detecting and classifying the
faces of the sampled ones, tracking them; after one run that warms up) and, apart, writing the
annotated copy and the emotion timeline (which reads the video again). The model loads before the
clock starts. Results go to bench/results/video.json and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2

from emotions.demo.clips import Face, Shot, write_clip
from emotions.prediction.video import (
    DEFAULT_FPS,
    VideoFrames,
    predict_video,
    write_annotated_videos,
)
from emotions.saved.runtime import Predictor

SHOTS = (
    Shot(8.0, (Face("happy", (20, 100), (520, 300)),)),
    Shot(4.0),
    Shot(8.0, (Face("angry", (40, 300), (200, 260)), Face("sad", (500, 40), (380, 120)))),
)

ROOT = Path(__file__).resolve().parent.parent


def timed(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models")
    parser.add_argument(
        "--video", type=Path, help="a video to process instead of the generated one"
    )
    parser.add_argument("--fps", type=float, default=DEFAULT_FPS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "video.json")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="also keep the video, its annotated copy and timeline here",
    )
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    cv2.setNumThreads(1)
    predictor = Predictor(args.model_dir, threads=1)  # a missing model is named here
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or Path(tmp) / "faces.mp4"
        if args.video is None:
            write_clip(video, SHOTS, size=(640, 480), fps=30.0, face_size=100)
        with VideoFrames(video, args.fps) as frames:
            sampled = sum(1 for _ in frames)
            seconds, rate, width, height = frames.duration, frames.rate, *frames.size
        rows = predict_video(predictor, video, args.fps)  # also warms up
        predicting = timed(lambda: predict_video(predictor, video, args.fps), args.runs)
        annotated = args.keep or Path(tmp) / "annotated"
        annotating = timed(lambda: write_annotated_videos(rows, annotated, args.fps), args.runs)
        if args.keep and args.video is None:
            shutil.copy(video, args.keep / "faces-original.mp4")
    report = {
        "machine": f"{os.cpu_count()} cores (pinned to 1), load average {os.getloadavg()[0]:.1f} "
        "at the end",
        "video": f"{width}x{height}, {rate:g} fps, {seconds:.1f} s"
        + (f" ({args.video})" if args.video else " (generated)"),
        "sampled_frames": sampled,
        "face_rows": sum(r.label is not None for r in rows),
        "faces": len({r.face for r in rows if r.face is not None}),
        "predict_s": round(predicting, 3),
        "predict_x_real_time": round(seconds / predicting, 2),
        "annotate_s": round(annotating, 3),
        "annotate_x_real_time": round(seconds / annotating, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{report['video']} at {args.fps:g} sampled frames a second: {sampled} frames, "
        f"{report['face_rows']} face rows,"
    )
    print(
        f"{report['faces']} face ids; on one core, one onnxruntime thread, median of {args.runs} "
        "runs\n"
    )
    print("| measure | value |\n|---|---|")
    print(
        f"| predict (decode, detect, classify, track) | {predicting:.2f} s: "
        f"{report['predict_x_real_time']:.1f}x real time |"
    )
    print(
        f"| `--annotate` (annotated copy and timeline) | {annotating:.2f} s: "
        f"{report['annotate_x_real_time']:.1f}x real time |"
    )


if __name__ == "__main__":
    main()
