"""Stage prepare: read every image of the raw data set, preprocess and clean it, and write arrays, a
manifest (every file, its class, and why any was skipped) and a data report (counts per step)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emotions import params
from emotions.data import preparation
from emotions.errors import run_cli
from emotions.files import atomic_dir

SHOWN = 20  # skipped files named on the terminal; all are in the manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--source",
        type=Path,
        help="folder of class folders, or a FER-2013 CSV (default: data.source in params.yaml)",
    )
    parser.add_argument("--out", type=Path, default=Path("data/prepared"))
    args = parser.parse_args()
    data = params.load(params.DataParams)
    prep = params.load(params.PrepareParams)
    started = time.perf_counter()
    # read here, not passed in dvc.yaml's cmd: a shell would mangle a path with a quote, `$` or
    # backtick
    source = args.source or data.source
    # written into a temporary folder beside --out, which replaces it only when complete
    with atomic_dir(args.out) as folder:
        outcome = preparation.from_source(source, data, prep, folder)
        shown, skipped = outcome.skipped(SHOWN)
    for note in outcome.notes:
        print(f"warning: {note}", file=sys.stderr)
    for row in shown:
        print(f"warning: skipped {row.path}: {row.reason}", file=sys.stderr)
    if skipped > SHOWN:
        print(f"warning: ... and {skipped - SHOWN} more skipped", file=sys.stderr)
    prepared, size = outcome.prepared, outcome.prepared.image_size
    print(
        f"prepare: {outcome.read} read in {time.perf_counter() - started:.1f} s; "
        f"{len(prepared.labels)} images of {size}x{size} ({prepared.encoding.color}) in "
        f"{args.out}, {skipped} skipped (reasons in {args.out / preparation.MANIFEST_FILE}, "
        f"counts in {args.out / preparation.REPORT_FILE})"
    )


if __name__ == "__main__":
    run_cli(main)
