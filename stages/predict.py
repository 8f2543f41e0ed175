"""Stage and command predict: the probability of each emotion, and the most likely one, for new images.

python -m stages.predict PATH...            a table on the terminal
python -m stages.predict PATH... --json     a JSON list: path, label, probabilities
python -m stages.predict data/new --out reports/predictions.csv   (the DVC stage)
python -m stages.predict PATH... --explain DIR   also a heat map per face of what drove its label
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emotions.errors import run_cli
from emotions.files import write_text
from emotions.inference.explain import write_explained
from emotions.inference.prediction import Predictor, as_csv, as_json, as_table, expand_inputs, write_annotated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="image files, folders (searched recursively) or glob patterns")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    output.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    output.add_argument("--out", type=Path, help="write the predictions as CSV to this file")
    parser.add_argument("--annotate", type=Path, metavar="DIR", help="write a copy of each image with boxes and labels drawn on")
    parser.add_argument("--explain", type=Path, metavar="DIR", help="write each face with a heat map of what drove its label")
    args = parser.parse_args()
    predictor = Predictor(args.model_dir)
    predictions = predictor.predict(expand_inputs(args.paths))
    classes = predictor.meta.classes
    if args.out:
        write_text(args.out, as_csv(predictions, classes))
        print(f"predict: {sum(p.label is not None for p in predictions)} images classified into {args.out}")
    elif args.json:
        print(as_json(predictions))
    elif args.csv:
        print(as_csv(predictions, classes), end="")
    else:
        print(as_table(predictions, classes))
    if args.annotate:
        written = write_annotated(predictions, args.annotate)
        print(f"predict: {len(written)} annotated images in {args.annotate}", file=sys.stderr)
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
