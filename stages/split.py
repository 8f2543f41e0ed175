"""Stage split: train/validation/test, following the source's own parts or stratified and seeded;
the test part is held out from training."""

from __future__ import annotations

import argparse
from pathlib import Path

from emotions import params
from emotions.data import splitting, store
from emotions.errors import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--out", type=Path, default=Path("data/split.npz"))
    args = parser.parse_args()
    p = params.load(params.SplitParams)
    prepared = store.load(args.prepared)
    parts = splitting.split(
        prepared.labels, prepared.roles, prepared.classes, p.val_fraction, p.test_fraction, p.seed
    )
    splitting.save(parts, args.out)
    how = "the source's own parts" if prepared.roles.any() else "a stratified split"
    print(f"split ({how}): " + ", ".join(f"{part} {len(parts[part])}" for part in splitting.PARTS))


if __name__ == "__main__":
    run_cli(main)
