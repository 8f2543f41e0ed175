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
import time
from pathlib import Path

import numpy as np

from emotions import params
from emotions.data import preparation, splitting, store
from emotions.data.sources import SourceSpec, read_source
from emotions.errors import UserError, run_cli
from emotions.files import write_text
from emotions.inference.evaluation import Evaluation, write_reports
from emotions.inference.prediction import Predictor

SETS_DIR = "sets"  # under --out-dir: one metrics file per extra test set


def _labelled_set(path: Path, predictor: Predictor) -> tuple[np.ndarray, np.ndarray]:
    """Any labelled data set, read and preprocessed exactly as the model's training data was. Of a
    source with parts only the held-out ones count (the model may have trained on its training part);
    a source without parts is scored whole."""
    data = params.load(params.DataParams)
    meta = predictor.meta
    spec = SourceSpec(meta.classes, data.aliases, data.csv_emotions, "auto")
    options = preparation.Options(image_size=meta.image_size, face_detect=meta.face_detect)
    prepared, _, _ = preparation.prepare(read_source(path, spec), meta.classes, options)
    held_out = prepared.parts != "train"
    return prepared.images[held_out], prepared.labels[held_out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--split", type=Path, default=Path("data/split.json"))
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--out-dir", type=Path, default=Path("reports"))
    parser.add_argument("--data", type=Path, help="score this labelled data set instead; writes nothing")
    parser.add_argument("--json", action="store_true", help="with --data: print the metrics as JSON")
    parser.add_argument("--set", metavar="NAME", help="score the set evaluate.sets.NAME into OUT_DIR/sets/NAME.json")
    args = parser.parse_args()
    if args.json and not args.data:
        parser.error("--json goes with --data")
    if args.set and args.data:
        parser.error("--set and --data: give one")
    if args.set:
        args.data = params.load(params.EvaluateParams).path(args.set)
    predictor = Predictor(args.model_dir)
    votes = None  # the crowd's, where the prepared data has them
    if args.data:
        images, labels = _labelled_set(args.data, predictor)
    else:
        prepared = store.load(args.prepared)
        if predictor.meta.classes != prepared.classes:
            raise UserError(f"{args.model_dir}: model classes {predictor.meta.classes} differ from the data's {prepared.classes}")
        test = splitting.load(args.split)["test"]
        images, labels = prepared.images[test], prepared.labels[test]
        votes = None if prepared.votes is None else prepared.votes[test][:, : len(prepared.classes)]
    started = time.perf_counter()
    evaluation = Evaluation(predictor.meta.classes, labels, predictor.probabilities(images), predictor.meta.temperature)
    seconds = time.perf_counter() - started
    if args.data and not args.set:
        print(json.dumps(evaluation.metrics(), indent=2) if args.json else evaluation.text_report())
        return
    if args.set:
        metrics = evaluation.metrics()
        write_text(args.out_dir / SETS_DIR / f"{args.set}.json", json.dumps(metrics, indent=2) + "\n")
    else:
        metrics = write_reports(evaluation, images, args.out_dir, predictor.probabilities, votes)
    print(evaluation.text_report())
    print(
        f"evaluate: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f} on {len(labels)} test images "
        f"({len(labels) / seconds:.0f} images/s)"
    )
    crowd = metrics.get("crowd")
    if isinstance(crowd, dict):
        print(f"evaluate: against the crowd's majority: accuracy {crowd['accuracy']:.4f}, macro-F1 {crowd['macro_f1']:.4f}")
    scores = metrics.get("calibration")
    if isinstance(scores, dict):
        print(
            f"evaluate: calibration (temperature {scores['temperature']:g}), before -> after: "
            f"ECE {scores['ece_before']:.4f} -> {scores['ece_after']:.4f}, "
            f"NLL {scores['nll_before']:.4f} -> {scores['nll_after']:.4f}, "
            f"Brier {scores['brier_before']:.4f} -> {scores['brier_after']:.4f}"
        )


if __name__ == "__main__":
    run_cli(main)
