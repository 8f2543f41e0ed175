"""Benchmark of train.distribute: the train stage on one device against mirrored over two logical
CPU devices (`EMOTIONS_CPU_REPLICAS=2`), side by side in one run, each a whole process: its images
a second, its seconds and its peak memory (the kernel's high-water mark).

    python bench/distribute.py [--faces 3000] [--epochs 3] [--out bench/results/distribute.json]

On a CPU the two replicas share the same cores, so mirrored cannot be faster: the difference is
what the strategy itself costs (splitting each batch, summing the gradients). With GPUs each
replica has a device of its own; that speed is not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml
from scale import measured  # a bench script beside this one

from emotions import recipes
from emotions.training.devices import CPU_REPLICAS
from emotions.training.precision import describe_cpu

ROOT = Path(__file__).resolve().parent.parent
CHANGES = {
    "sample.image_size": 48,
    "prepare.image_size": 48,
    "model.architecture": "vgg",
    "model.vgg.width": 16,
    "model.vgg.convs": [1, 1, 1, 1],
    "train.batch_size": 64,
    "train.precision": "float32",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=3000, help="drawn faces, over three classes")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "distribute.json")
    args = parser.parse_args()
    py = sys.executable
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-distribute-") as tmp:
        work = Path(tmp)
        for item in ("stages", "emotions"):
            shutil.copytree(ROOT / item, work / item, ignore=shutil.ignore_patterns("__pycache__"))
        changes = {
            **CHANGES,
            "sample.per_class": args.faces // 3,
            "data.source": "data/sample/faces",
            "train.epochs": args.epochs,
        }
        os.environ[CPU_REPLICAS] = "2"  # the stages' environment: "none" ignores it
        for mode in ("none", "mirrored"):
            raw = recipes.applied({**changes, "train.distribute": mode})
            (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
            if mode == "none":
                for stage in ("sample", "prepare", "split"):
                    measured([py, "-m", f"stages.{stage}"], work)
            seconds, peak, output = measured([py, "-m", "stages.train"], work)
            found = re.search(r"train: \d+ epochs in [\d.]+ s, ([\d.]+) images/s", output)
            assert found, output
            results[mode] = {
                "images_per_s": float(found[1]),
                "seconds": round(seconds, 1),
                "peak_mb": round(peak),
            }
    report = {
        "machine": f"{describe_cpu()}, {platform.machine()}, {os.cpu_count()} cores",
        "faces": args.faces,
        "epochs": args.epochs,
        "results": results,
        "mirrored_vs_one": round(
            results["mirrored"]["images_per_s"] / results["none"]["images_per_s"], 3
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(report["machine"])
    print("| train.distribute | images/s | train stage s | peak MB |\n|---|---|---|---|")
    for mode, r in results.items():
        print(f"| {mode} | {r['images_per_s']:.0f} | {r['seconds']} | {r['peak_mb']} |")
    print(f"mirrored over two logical CPU devices / one device: {report['mirrored_vs_one']:.3f}")


if __name__ == "__main__":
    main()
