"""Stage prepare: read every image of the raw data set, preprocess it, and write arrays plus a manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emotions import dataset, params
from emotions.errors import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, required=True, help="raw data: one sub-folder per class")
    parser.add_argument("--out", type=Path, default=Path("data/prepared"))
    args = parser.parse_args()
    data = params.load(params.DataParams)
    prep = params.load(params.PrepareParams)
    prepared, rows = dataset.prepare(
        args.source, data.classes, prep.image_size, skip_bad=prep.on_bad_image == "skip"
    )
    dataset.save(prepared, rows, args.out)
    skipped = [r for r in rows if r.status == "skipped"]
    for row in skipped:
        print(f"warning: skipped {row.path}: {row.reason}", file=sys.stderr)
    print(
        f"prepare: {len(prepared.labels)} images of {prepared.image_size}x{prepared.image_size} "
        f"in {args.out}, {len(skipped)} skipped (see {args.out / dataset.MANIFEST_FILE})"
    )


if __name__ == "__main__":
    run_cli(main)
