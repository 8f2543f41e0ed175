"""Stage split: a stratified, seeded train/validation/test split; the test part is held out."""

from __future__ import annotations

import argparse
from pathlib import Path

from emotions import dataset, params, splitting
from emotions.errors import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--out", type=Path, default=Path("data/split.json"))
    args = parser.parse_args()
    p = params.load(params.SplitParams)
    prepared = dataset.load(args.prepared)
    split = splitting.stratified_split(prepared.labels, prepared.classes, p.val_fraction, p.test_fraction, p.seed)
    splitting.save(split, args.out)
    print("split: " + ", ".join(f"{part} {len(idx)}" for part, idx in split.items()))


if __name__ == "__main__":
    run_cli(main)
