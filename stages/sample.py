"""Stage sample: draw the synthetic demo faces a fresh clone trains on (no download needed), for the
classes of data.classes and data.extra_classes the generator can draw."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emotions import params
from emotions.demo.faces import EXPRESSIONS, write_sample
from emotions.errors import run_cli
from emotions.files import atomic_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=Path("data/sample"), help="folder to write faces/ and new/ into"
    )
    args = parser.parse_args()
    data = params.load(params.DataParams)
    p = params.load(params.SampleParams)
    with atomic_dir(args.out) as tmp:
        counts = write_sample(tmp, p, data.classes, data.extra_classes)
    left_out = [name for name in data.classes + data.extra_classes if name not in counts]
    if left_out:
        print(
            f"warning: sample: the generator cannot draw {', '.join(map(repr, left_out))} (it "
            f"draws: {', '.join(EXPRESSIONS)}), "
            "so the sample has no faces of them: point data.source at your own images",
            file=sys.stderr,
        )
    unseen = p.new_per_class * sum(name in counts for name in data.classes)
    print(
        f"sample: {sum(counts.values())} faces in {args.out}/faces, {unseen} unseen in "
        f"{args.out}/new"
    )


if __name__ == "__main__":
    run_cli(main)
