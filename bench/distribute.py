"""Benchmark of train.distribute: the train stage on one device, mirrored over two logical CPU
devices (`EMOTIONS_CPU_REPLICAS=2`), and two worker processes on this machine (`multi_worker`),
side by side in one run: the images a second, the seconds and the peak memory (the kernel's
high-water mark) of each process, the larger of the two workers'.

    python bench/distribute.py [--faces 3000] [--epochs 3] [--out bench/results/distribute.json]

On a CPU the two replicas share the same cores, so neither strategy can be faster: the difference
is what the strategy itself costs (splitting each batch, summing the gradients; for two workers,
each also making every batch and exchanging the gradients over gRPC). With GPUs or machines of
their own each replica has a device to itself; that speed is not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from scale import measured  # a bench script beside this one

from emotions import recipes
from emotions.training import workers
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


def two_workers(work: Path) -> tuple[float, float, str]:
    """Worker 1 in a copy of ``work`` (its own machine, as it were) beside worker 0 in ``work``:
    worker 0's seconds and output, the larger peak memory of the two."""
    configs = workers.on_this_machine(2)
    env = {**os.environ, workers.CONFIG: configs[1], "DVC_NO_ANALYTICS": "1"}
    with tempfile.TemporaryDirectory(prefix="bench-distribute-worker1-") as tmp:
        other = Path(tmp) / "project"
        shutil.copytree(work, other, ignore=shutil.ignore_patterns("models", "dvclive"))
        with open(other / ".bench.log", "w") as log:
            second = subprocess.Popen(
                [sys.executable, "-m", "stages.train"], cwd=other, env=env, stdout=log, stderr=log
            )
            os.environ[workers.CONFIG] = configs[0]
            try:
                seconds, peak, output = measured([sys.executable, "-m", "stages.train"], work)
            finally:
                del os.environ[workers.CONFIG]
            _, status, usage = os.wait4(second.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: worker 1 failed:\n{(other / '.bench.log').read_text()[-3000:]}")
    return seconds, max(peak, usage.ru_maxrss / 1024), output


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
        for mode in ("none", "mirrored", "multi_worker"):
            raw = recipes.applied({**changes, "train.distribute": mode})
            (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
            if mode == "none":
                for stage in ("sample", "prepare", "split"):
                    measured([py, "-m", f"stages.{stage}"], work)
            if mode == "multi_worker":
                seconds, peak, output = two_workers(work)
            else:
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
        "two_workers_vs_one": round(
            results["multi_worker"]["images_per_s"] / results["none"]["images_per_s"], 3
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(report["machine"])
    print("| train.distribute | images/s | train stage s | peak MB |\n|---|---|---|---|")
    for mode, r in results.items():
        print(f"| {mode} | {r['images_per_s']:.0f} | {r['seconds']} | {r['peak_mb']} |")
    print(f"mirrored over two logical CPU devices / one device: {report['mirrored_vs_one']:.3f}")
    print(f"two workers / one process: {report['two_workers_vs_one']:.3f}")


if __name__ == "__main__":
    main()
