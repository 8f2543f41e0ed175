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
    outcome = preparation.from_source(source, data, prep)
    preparation.save(outcome, args.out)
    prepared, rows = outcome.prepared, outcome.manifest
    skipped = [r for r in rows if r.status == "skipped"]
    for row in skipped[:20]:
        print(f"warning: skipped {row.path}: {row.reason}", file=sys.stderr)
    if len(skipped) > 20:
        print(f"warning: ... and {len(skipped) - 20} more skipped", file=sys.stderr)
    print(
        f"prepare: {len(rows)} read in {time.perf_counter() - started:.1f} s; "
        f"{len(prepared.labels)} images of {prepared.image_size}x{prepared.image_size} in "
        f"{args.out}, "
        f"{len(skipped)} skipped (reasons in {args.out / preparation.MANIFEST_FILE}, "
        f"counts in {args.out / preparation.REPORT_FILE})"
    )


if __name__ == "__main__":
    run_cli(main)
