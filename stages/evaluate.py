"""Stage evaluate: score the trained model on the held-out test part."""

from __future__ import annotations

import argparse
from pathlib import Path

from emotions import dataset, splitting
from emotions.errors import UserError, run_cli
from emotions.evaluation import Evaluation, write_reports
from emotions.prediction import Predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--split", type=Path, default=Path("data/split.json"))
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--out-dir", type=Path, default=Path("reports"))
    args = parser.parse_args()
    prepared = dataset.load(args.prepared)
    test = splitting.load(args.split)["test"]
    predictor = Predictor(args.model_dir)
    if predictor.meta.classes != prepared.classes:
        raise UserError(
            f"{args.model_dir}: model classes {predictor.meta.classes} differ from the data's {prepared.classes}"
        )
    probs = predictor.probabilities(prepared.images[test])
    evaluation = Evaluation(prepared.classes, prepared.labels[test], probs.argmax(axis=1))
    metrics = write_reports(evaluation, args.out_dir)
    print(evaluation.text_report())
    print(f"evaluate: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}")


if __name__ == "__main__":
    run_cli(main)
