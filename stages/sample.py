"""Stage sample: draw the synthetic demo faces a fresh clone trains on (no download needed)."""

from __future__ import annotations

import argparse
from pathlib import Path

from emotions import params
from emotions.data.synthetic import write_sample
from emotions.errors import run_cli
from emotions.files import atomic_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="folder to write faces/ and new/ into")
    args = parser.parse_args()
    p = params.load(params.SampleParams)
    with atomic_dir(args.out) as tmp:
        counts = write_sample(tmp, p.classes, p.per_class, p.new_per_class, p.seed, p.image_size)
    print(
        f"sample: {sum(counts.values())} faces in {args.out}/faces, {p.new_per_class * len(p.classes)} unseen in {args.out}/new"
    )


if __name__ == "__main__":
    run_cli(main)
