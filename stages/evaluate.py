"""Stage evaluate: score the trained model on the held-out test part.

python -m stages.evaluate                     the stage: writes reports/ (metrics, report, plots)
python -m stages.evaluate --data PATH [--json]  score any labelled set (class folders or a FER-2013
                                              CSV) with the same report; writes nothing
python -m stages.evaluate --set NAME          the evaluate_set stage: score the extra test set
                                              evaluate.sets.NAME into reports/sets/NAME.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emotions import params
from emotions.errors import run_cli
from emotions.evaluation import scoring

SETS_DIR = "sets"  # under --out-dir: one metrics file per extra test set


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--split", type=Path, default=Path("data/split.npz"))
    parser.add_argument(
        "--model", "--model-dir", dest="model_dir", metavar="DIR", type=Path, default=Path("models")
    )
    parser.add_argument("--out-dir", type=Path, default=Path("reports"))
    parser.add_argument(
        "--data", type=Path, help="score this labelled data set instead; writes nothing"
    )
    parser.add_argument(
        "--json", action="store_true", help="with --data: print the metrics as JSON"
    )
    parser.add_argument(
        "--set", metavar="NAME", help="score the set evaluate.sets.NAME into OUT_DIR/sets/NAME.json"
    )
    args = parser.parse_args()
    if args.json and not args.data:
        parser.error("--json goes with --data")
    if args.set is not None and args.data:
        parser.error("--set and --data: give one")
    if args.data:
        score = scoring.score_labelled_set(
            args.model_dir, args.data, params.load(params.DataParams)
        )
        print(json.dumps(score.metrics, indent=2) if args.json else score.evaluation.text_report())
        return
    if args.set is not None:  # "" too: it names no set, and must not rewrite the test's reports
        path = params.load(params.EvaluateParams).path(args.set)
        metrics_file = args.out_dir / SETS_DIR / f"{args.set}.json"
        score = scoring.score_labelled_set(
            args.model_dir, path, params.load(params.DataParams), metrics_file
        )
    else:
        score = scoring.score_test_part(args.model_dir, args.prepared, args.split, args.out_dir)
    print(score.evaluation.text_report())
    print(score.summary())


if __name__ == "__main__":
    run_cli(main)
