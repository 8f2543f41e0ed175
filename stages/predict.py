"""Stage and command predict: the probability of each emotion, and the most likely one, for new
images and for every face in videos (mp4, avi, mkv, mov, ...: a few frames a second, each face with
its id). A photo's faces are found and classified one by one; an image that already is a face crop
is classified whole.

    python -m stages.predict PATH...                   a table on the terminal
    python -m stages.predict --model pretrained/fer2013-seven PATH...   with a shipped model
    python -m stages.predict PATH... --json            a JSON list: path, label, probabilities
    python -m stages.predict clip.mp4 --fps 2          a video's faces, two frames a second
    python -m stages.predict PATH... --explain DIR     a heat map per face of what drove its label
    python -m stages.predict --out reports/predictions.csv   data.new of params.yaml (the stage)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emotions import params
from emotions.errors import UserError, run_cli
from emotions.files import write_text
from emotions.prediction.classify import predict_all
from emotions.prediction.formats import as_csv, as_json, as_summary, as_table
from emotions.prediction.inputs import expand_inputs
from emotions.prediction.pictures import write_annotated, write_explained
from emotions.prediction.results import counted
from emotions.prediction.video import DEFAULT_FPS, parse_fps, write_annotated_videos
from emotions.saved.runtime import Predictor


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "paths",
        nargs="*",
        help="image or video files, folders (searched recursively) or glob patterns (default: "
        "data.new in params.yaml)",
    )
    parser.add_argument(
        "--model",
        "--model-dir",
        dest="model_dir",
        metavar="DIR",
        type=Path,
        default=Path("models"),
        help="a model folder: model.onnx and meta.json (default: models, the pipeline's)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    output.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    output.add_argument("--out", type=Path, help="write the predictions as CSV to this file")
    parser.add_argument(
        "--annotate",
        type=Path,
        metavar="DIR",
        help="write a copy of each image or video with boxes and labels drawn on",
    )
    parser.add_argument(
        "--fps",
        type=parse_fps,
        default=DEFAULT_FPS,
        help=f"video frames sampled a second (default {DEFAULT_FPS:g})",
    )
    parser.add_argument(
        "--explain",
        type=Path,
        metavar="DIR",
        help="write each face with a heat map of what drove its label",
    )
    args = parser.parse_args()
    if args.annotate and args.explain and args.annotate.resolve() == args.explain.resolve():
        raise UserError(
            f"{args.annotate}: --annotate and --explain name one folder, where the pictures of an "
            "image would overwrite each other: give two"
        )
    # data.new is read here, not passed in dvc.yaml's cmd: a shell would mangle a quote, `$` or
    # backtick
    paths = args.paths or [str(params.load(params.DataParams).new)]
    predictor = Predictor(args.model_dir)
    predictions = predict_all(predictor, expand_inputs(paths), args.fps)
    classes = predictor.meta.classes
    if args.out:
        write_text(args.out, as_csv(predictions, classes))
        print(f"predict: {counted(predictions)} classified into {args.out}")
    elif args.json:
        print(as_json(predictions))
    elif args.csv:
        print(as_csv(predictions, classes), end="")
    else:
        print(as_table(predictions, classes))
        if summary := as_summary(predictions):
            print(f"\n{summary}")
    if args.annotate:
        written = write_annotated(predictions, args.annotate)
        videos = write_annotated_videos(predictions, args.annotate, args.fps)
        also = f", {len(videos)} annotated videos and their emotion timelines" if videos else ""
        print(f"predict: {len(written)} annotated images{also} in {args.annotate}", file=sys.stderr)
    if args.explain:
        written = write_explained(predictor, predictions, args.explain)
        print(f"predict: {len(written)} heat maps in {args.explain}", file=sys.stderr)
    failed = [p for p in predictions if p.error]
    for p in failed:
        print(f"warning: {p.path}: {p.error}", file=sys.stderr)
    if len(failed) == len(predictions):
        raise SystemExit(1)


if __name__ == "__main__":
    run_cli(main)
