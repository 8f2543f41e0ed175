"""Average saved models of the same classes into one model folder (``model.onnx`` and ``meta.json``)
that ships, loads and predicts as a single model does; its temperature is fitted on the validation
part of the workspace that trained the members, which must all have trained on that split. A member
that is itself an ensemble joins as its networks, each network weighing the same.

    python tools/ensemble.py OUT MEMBER MEMBER... --workspace WORKSPACE
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emotions.data import splitting, store
from emotions.errors import run_cli
from emotions.saved.ensemble import write_ensemble


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("members", type=Path, nargs="+")
    parser.add_argument("--workspace", type=Path, required=True, help="where data/ holds the split")
    args = parser.parse_args()
    prepared = store.load(args.workspace / "data" / "prepared")
    val = splitting.load(args.workspace / "data" / "split.npz")["val"]
    accuracy = write_ensemble(args.members, prepared, val, args.out)
    for name, value in accuracy.items():
        print(f"ensemble: validation accuracy {value:.4f} ({name}, {len(val)} faces)")


if __name__ == "__main__":
    run_cli(main)
