"""Scale benchmark: does the pipeline's cost grow no faster than its data? Generated faces at N =
10k, 100k and 300k (AffectNet's training size), 48-px gray and 112-px colour; for each N, each
stage run as its own process, its time and peak memory (the kernel's high-water mark of the
process):

- prepare from a folder of N image files: seconds per face, peak MB;
- train: seconds per step over a fixed number of steps (the prepared shards streamed through the
  shuffle buffer, augmentation on), after warm-up steps, and peak MB;
- evaluate on the test part (15% of N): peak MB;
- DVC on the source folder of N files: `dvc repro` of a stage that depends on it (the first run
  hashes every file), then `dvc status` and a `dvc repro` with nothing to do.

    python bench/scale.py [--sizes 10000,100000,300000] [--configs gray48,rgb112] [--steps 60]
                          [--data-only]
                          [--work DIR] [--out bench/results/scale.json]

The faces are drawn by emotions.demo (a pool of drawn faces, every file made unique by its first
pixels), written once for the largest N; the smaller sets are hard links to its first files.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import yaml

from emotions import recipes
from emotions.demo.faces import EXPRESSIONS, draw_face, tinted
from emotions.training.precision import describe_cpu

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ("angry", "happy", "sad")
CONFIGS: dict[str, dict[str, object]] = {
    "gray48": {
        "prepare.image_size": 48,
        "prepare.color": "gray",
        "model.architecture": "reference",
    },
    "rgb112": {"prepare.image_size": 112, "prepare.color": "rgb", "model.architecture": "vgg"},
}
COMMON = {
    "train.batch_size": 64,
    # smaller than the training faces of every N but the smallest: past it, train's memory is flat
    "train.shuffle_mb": 64,
    "train.precision": "float32",
    "train.augment": True,
    "model.vgg.width": 16,
    "model.vgg.convs": [1, 1, 1, 1],
}
POOL = 200  # drawn faces per class, cycled
WARMUP = 5  # training steps not timed
SKIN = [(1.0, 0.80, 0.65), (0.85, 0.62, 0.45), (0.55, 0.38, 0.25), (1.0, 0.88, 0.78)]


def write_faces(folder: Path, count: int, size: int, color: str) -> None:
    """``count`` unique PNG files in ``folder/<class>/``, ``count // 3`` per class."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(CLASSES):
        (folder / name).mkdir(parents=True, exist_ok=True)
        pool = [draw_face(EXPRESSIONS[k], rng, size) for _ in range(POOL)]
        if color == "rgb":
            pool = [
                cv2.cvtColor(tinted(f, SKIN[i % len(SKIN)]), cv2.COLOR_RGB2BGR)
                for i, f in enumerate(pool)
            ]
        for i in range(count // len(CLASSES)):
            face = pool[i % POOL].copy()
            stamp = (i % 256, (i // 256) % 256, i // 65536)  # every file a face of its own
            if face.ndim == 2:
                face[0, :3] = stamp
            else:
                face[0, 0] = stamp
            cv2.imwrite(str(folder / name / f"{i:06d}.png"), face)


def linked(source: Path, folder: Path, count: int) -> None:
    """The first ``count // 3`` files of each class of ``source``, as hard links."""
    for name in CLASSES:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(count // len(CLASSES)):
            os.link(source / name / f"{i:06d}.png", folder / name / f"{i:06d}.png")


def measured(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Seconds, peak resident MB of the process, and its output (stdout and stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1"}
    started = time.perf_counter()
    with open(cwd / ".bench.log", "w+") as log:
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed in {cwd}:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def params_for(name: str, source: Path) -> dict[str, object]:
    """The default params with the configuration's changes, as a recipe sets them."""
    changes = {**COMMON, **CONFIGS[name], "data.source": str(source), "data.classes": list(CLASSES)}
    return recipes.applied(changes)


def train_steps(steps: int) -> None:
    """The train stage's input pipeline and network for ``steps`` steps (after ``WARMUP``), then
    the saved model, uncalibrated, for evaluate; prints the seconds per step."""
    from emotions import params
    from emotions.data import splitting, store
    from emotions.training import precision

    train_params = params.load(params.TrainParams)
    precision.set_onednn(train_params.onednn, train_params.precision)
    from emotions.data.imaging import to_input
    from emotions.training.assemble import saved_model
    from emotions.training.batches import Batches
    from emotions.training.export import save_checked
    from emotions.training.networks import ModelParams, build_model

    model_params = params.load(ModelParams)
    prepared = store.load(Path("data/prepared"))
    split = splitting.load(Path("data/split.npz"))
    rows = split["train"]
    batches = Batches(
        prepared.faces,
        rows,
        prepared.labels[rows],
        train_params.batch_size,
        0,
        params.load(params.AugmentParams),
        None,
        prepared.image_size,
        train_params.shuffle_mb,
    )
    model = build_model(
        prepared.image_size, prepared.encoding.channels, len(prepared.classes), model_params
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    data = iter(batches.dataset())
    for _ in range(WARMUP):
        model.train_on_batch(*next(data)[:2])
    started = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*next(data)[:2])
    print(f"step_s {(time.perf_counter() - started) / steps:.4f}")
    saved = saved_model(model, prepared, split["val"], model_params, calibrate=False, crop=0).model
    save_checked(
        saved, prepared.encoding, Path("models"), to_input(prepared.faces.read(split["val"][:256]))
    )


DVC_STAGE = {
    "stages": {
        "source": {
            "cmd": "python -c \"open('seen.txt', 'w').write('x')\"",
            "deps": ["${data.source}"],
            "outs": [{"seen.txt": {"cache": False}}],
        }
    }
}


def bench_dvc(work: Path, source: Path) -> dict[str, float]:
    """DVC on a folder of N files: a first `dvc repro` hashes it; then status, a no-op repro."""
    repo = work / "dvc"
    repo.mkdir()
    (repo / "params.yaml").write_text(yaml.safe_dump({"data": {"source": str(source)}}))
    (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_STAGE, sort_keys=False))
    py = sys.executable
    for cmd in (
        ["git", "init", "-q"],
        [py, "-m", "dvc", "init", "-q"],
        [py, "-m", "dvc", "config", "core.analytics", "false"],
    ):
        measured(cmd, repo)
    first, _, _ = measured([py, "-m", "dvc", "repro", "-q"], repo)
    status, status_mb, out = measured([py, "-m", "dvc", "status"], repo)
    noop, noop_mb, _ = measured([py, "-m", "dvc", "repro"], repo)
    assert "up to date" in out, out
    return {
        "first_repro_s": round(first, 1),
        "status_s": round(status, 2),
        "noop_repro_s": round(noop, 2),
        "dvc_peak_mb": round(max(status_mb, noop_mb)),
    }


def bench_one(
    name: str, count: int, source: Path, work: Path, steps: int, data_only: bool
) -> dict[str, object]:
    work.mkdir(parents=True)
    (work / "params.yaml").write_text(yaml.safe_dump(params_for(name, source), sort_keys=False))
    py = sys.executable
    prepare_s, prepare_mb, out = measured(
        [py, "-m", "stages.prepare", "--out", "data/prepared"], work
    )
    _, split_mb, _ = measured(
        [py, "-m", "stages.split", "--prepared", "data/prepared", "--out", "data/split.npz"], work
    )
    result: dict[str, object] = {
        "faces": count,
        "prepare_s": round(prepare_s, 1),
        "prepare_ms_per_face": round(1000 * prepare_s / count, 3),
        "prepare_peak_mb": round(prepare_mb),
        "split_peak_mb": round(split_mb),
        "prepared_mb": round(
            sum(f.stat().st_size for f in (work / "data" / "prepared").iterdir()) / 2**20
        ),
    }
    if data_only:
        shutil.rmtree(work / "data")
        print(f"bench: {name} {count}: {json.dumps(result)}", flush=True)
        return result
    train_s, train_mb, out = measured(
        [py, str(Path(__file__).resolve()), "--train-steps", str(steps)], work
    )
    step_s = float(out.split("step_s ")[1].split()[0])
    eval_s, eval_mb, _ = measured(
        [
            py,
            "-m",
            "stages.evaluate",
            "--prepared",
            "data/prepared",
            "--split",
            "data/split.npz",
            "--model-dir",
            "models",
            "--out-dir",
            "reports",
        ],
        work,
    )
    test_faces = json.loads((work / "reports" / "metrics.json").read_text())["test_images"]
    result |= {
        "train_s_per_step": round(step_s, 4),
        "train_peak_mb": round(train_mb),
        "evaluate_s": round(eval_s, 1),
        "evaluate_faces": test_faces,
        "evaluate_peak_mb": round(eval_mb),
        **bench_dvc(work, source),
    }
    shutil.rmtree(work / "data")
    print(f"bench: {name} {count}: {json.dumps(result)}", flush=True)
    return result


def table(results: dict[str, dict[str, dict[str, object]]]) -> str:
    lines = [
        "| faces | config | prepare ms/face | prepare peak MB | split peak MB | train s/step | "
        "train peak MB | evaluate peak MB | dvc status s | no-op dvc repro s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, by_size in results.items():
        for count, r in by_size.items():
            cells = [
                r.get(key, "-")
                for key in (
                    "prepare_ms_per_face",
                    "prepare_peak_mb",
                    "split_peak_mb",
                    "train_s_per_step",
                    "train_peak_mb",
                    "evaluate_peak_mb",
                    "status_s",
                    "noop_repro_s",
                )
            ]
            lines.append(f"| {int(count):,} | {name} | " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,300000")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument(
        "--data-only", action="store_true", help="prepare and split only (no train, evaluate, DVC)"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/emotions-scale"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    parser.add_argument(
        "--train-steps", type=int, help=argparse.SUPPRESS
    )  # the train measurement, in its own process
    args = parser.parse_args()
    if args.train_steps:
        train_steps(args.train_steps)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: dict[str, dict[str, dict[str, object]]] = {}
    for name in args.configs.split(","):
        size, color = CONFIGS[name]["prepare.image_size"], CONFIGS[name]["prepare.color"]
        assert isinstance(size, int) and isinstance(color, str)
        root = args.work / name
        shutil.rmtree(root, ignore_errors=True)
        largest = root / f"faces-{sizes[-1]}"
        started = time.perf_counter()
        write_faces(largest, sizes[-1], size, color)
        print(
            f"bench: {name}: {sizes[-1]} files written in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        results[name] = {}
        for count in sizes:
            source = largest if count == sizes[-1] else root / f"faces-{count}"
            if source != largest:
                linked(largest, source, count)
            results[name][str(count)] = bench_one(
                name, count, source, root / f"work-{count}", args.steps, args.data_only
            )
        shutil.rmtree(root)
    report = {
        "machine": f"{describe_cpu()}, {platform.machine()}, {os.cpu_count()} cores",
        "steps": args.steps,
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(report["machine"])
    print(table(results))


if __name__ == "__main__":
    main()
