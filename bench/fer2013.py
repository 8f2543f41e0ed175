"""Benchmark on real faces: the whole pipeline on FER-2013, the reference CNN next to the
recommended configuration (angry, happy, sad) and that configuration on all seven classes, plus the
speed of prepare, CSV import and a no-op rebuild.

    python bench/fer2013.py [--data ../shared/data/fer2013] [--configs reference,recommended,seven]
    [--set KEY=VALUE ...]

`--set` changes a param on top of every configuration run (e.g. `--set train.seed=1`): the README's
table of changes that did not help comes from such runs.

Each configuration runs `dvc exp run -S ...` from raw images in a fresh copy of the project (a new
git repo), so the numbers are what a user gets, with the default `train.precision: auto` and
`train.onednn: auto` (on a CPU without AVX512_BF16 or AMX: float32 with oneDNN). Results go to
bench/results/fer2013.json (the rows of configurations not run this time are kept) and are printed
as the Markdown table the README shows; `--reports DIR` keeps each configuration's reports/ folder
(report.md, reliability diagram, confusion matrix, mistakes) as DIR/NAME.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from emotions import recipes
from emotions.training.precision import describe_cpu

ROOT = Path(__file__).resolve().parent.parent

PROJECT_FILES = (
    "stages",
    "emotions",
    "pretrained",
    "recipes",
    "dvc.yaml",
    "params.yaml",
    ".gitignore",
    ".dvcignore",
)

# Each configuration is a recipe of recipes/ (emotions.recipes), set on top of params.yaml besides
# data.source. Configurations are compared on validation (the part of Training/ held out): the last
# epoch's accuracy, one view of each face, and the saved model's, its test-time views averaged, as
# it ships; PublicTest/ is scored once per configuration, for the report. Their scores and how they
# were chosen: docs/results.md and docs/experiments.md.
CONFIGS = recipes.names(ROOT / "recipes")
DEFAULT_CONFIGS = "sample,recommended,seven"


def run(cmd: list[str], cwd: Path) -> tuple[str, float]:
    started = time.perf_counter()
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(
            f"bench: {' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout + result.stderr, seconds


def workspace(parent: Path, name: str) -> Path:
    """A fresh copy of the project in its own git repo, as a user's clone would be."""
    repo = parent / name
    repo.mkdir()
    for item in PROJECT_FILES:
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, repo / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, repo / item)
    run(["git", "init", "-q"], repo)
    run([sys.executable, "-m", "dvc", "init", "-q"], repo)
    shutil.copy(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    run(["git", "add", "-A"], repo)
    run(
        [
            "git",
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "-qm",
            "project",
        ],
        repo,
    )
    return repo


def matched(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in the pipeline's output."""
    match = re.search(pattern, text)
    if not match:
        sys.exit(f"bench: no match for {pattern!r} in the pipeline's output")
    return match.group(1)


def number(pattern: str, text: str) -> float:
    return float(matched(pattern, text))


def bench_config(
    parent: Path, name: str, data: Path, extra: dict[str, object], reports: Path | None
) -> dict[str, object]:
    repo = workspace(parent, name)
    sets = {"data.source": str(data), **recipes.load(name, ROOT / "recipes"), **extra}
    command = ["dvc", "exp", "run"] + [
        arg for k, v in sets.items() for arg in ("-S", f"{k}={recipes.override(v)}")
    ]
    print(f"bench: {name}: {shlex.join(command)}", flush=True)
    output, seconds = run([sys.executable, "-m", *command], repo)
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    summary = json.loads((repo / "dvclive" / "train" / "metrics.json").read_text())
    validation = summary["eval"]
    _, noop = run([sys.executable, "-m", "dvc", "repro"], repo)
    if reports is not None:
        shutil.copytree(repo / "reports", reports / name, dirs_exist_ok=True)
    return {
        "command": shlex.join(command),
        "val_accuracy": validation["accuracy"],
        "val_loss": validation["loss"],
        "saved_val_accuracy": summary["saved_model"]["val_accuracy"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "f1": {c: v["f1"] for c, v in metrics["per_class"].items()},
        "test_images": metrics["test_images"],
        "calibration": metrics["calibration"],
        "pipeline_s": round(seconds, 1),
        "prepare_s": number(r"prepare: \d+ read in ([\d.]+) s", output),
        "images_read": int(number(r"prepare: (\d+) read", output)),
        "arithmetic": matched(r"train: ((?:float32|mixed).*)", output),
        "train_s": number(r"train: \d+ epochs in ([\d.]+) s", output),
        "epochs": int(number(r"train: (\d+) epochs", output)),
        "train_images_per_s": number(r"train: .* ([\d.]+) images/s", output),
        "predict_images_per_s": number(r"evaluate: .*\(([\d.]+) images/s\)", output),
        "noop_repro_s": round(noop, 2),
    }


def synthetic_full_csv(sample: Path, out: Path, rows: int = 35887) -> None:
    """A CSV the size of the full FER-2013 file (35,887 rows, ~290 MB), made from the shared sample:
    its faces cycled with a changed pixel each, over all seven emotion codes and three usages."""
    lines = sample.read_text().splitlines()[1:]
    usages = ["Training"] * 8 + ["PublicTest", "PrivateTest"]
    with out.open("w") as f:
        f.write("emotion,pixels,Usage\n")
        for i in range(rows):
            pixels = lines[i % len(lines)].split(",")[1].split()
            pixels[i % 2304] = str(i % 256)
            f.write(f"{i % 7},{' '.join(pixels)},{usages[i % 10]}\n")


def bench_csv_import(parent: Path, sample: Path) -> dict[str, object]:
    repo = workspace(parent, "csv")
    big = parent / "fer2013-full-size.csv"
    synthetic_full_csv(sample, big)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "stages.prepare", "--source", str(big), "--out", "data/prepared"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit("bench: CSV import failed")
    return {
        "csv_mb": round(big.stat().st_size / 2**20),
        "rows": 35887,
        "import_s": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def earlier_runs(out: Path, machine: str, extra: dict[str, object]) -> dict[str, Any]:
    """The configurations ``out`` already holds from runs on this kind of machine with the same
    ``--set``: a run of some configurations updates their rows and keeps the others beside them."""
    if not out.exists():
        return {}
    earlier = json.loads(out.read_text())
    return (
        earlier["configs"]
        if earlier.get("machine") == machine and earlier.get("set") == extra
        else {}
    )


def parse_set(text: str) -> tuple[str, object]:
    """KEY=VALUE from the command line, the value read as YAML (so 52, true and [1,1,2] keep their
    types)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, yaml.safe_load(value)


def ece(result: dict[str, Any]) -> str:
    """The expected calibration error on the test part before and after the temperature ("-" for a
    run recorded before evaluate scored calibration)."""
    scores = result.get("calibration")
    return f"{scores['ece_before']:.4f} -> {scores['ece_after']:.4f}" if scores else "-"


def saved_val(result: dict[str, Any]) -> str:
    """The saved model's validation accuracy ("-" for a run recorded before train logged it)."""
    accuracy = result.get("saved_val_accuracy")
    return f"{accuracy:.4f}" if accuracy is not None else "-"


def table(results: dict[str, dict[str, Any]]) -> str:
    """One Markdown table per class list, with a column for each class's F1."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, r in results.items():
        groups.setdefault(tuple(r["f1"]), []).append(name)
    tables = []
    for classes, names in groups.items():
        rows = [
            "| configuration | val accuracy, last epoch | val accuracy, saved | accuracy | "
            "macro-F1 | "
            + " | ".join(f"F1 {c}" for c in classes)
            + " | ECE before -> after | epochs | train time | train images/s | predict images/s | "
            "whole `dvc exp run` |",
            "|" + "---|" * (len(classes) + 11),
        ]
        for name in names:
            r = results[name]
            f1 = r["f1"]
            rows.append(
                f"| {name} | {r['val_accuracy']:.4f} | {saved_val(r)} | {r['accuracy']:.4f} | "
                f"{r['macro_f1']:.4f} | "
                + " | ".join(f"{f1[c]:.3f}" for c in classes)
                + f" | {ece(r)} | {r['epochs']} | {r['train_s'] / 60:.1f} min | "
                f"{r['train_images_per_s']:.0f} "
                f"| {r['predict_images_per_s']:.0f} | {r['pipeline_s'] / 60:.1f} min |"
            )
        tables.append("\n".join(rows))
    return "\n\n".join(tables)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "fer2013")
    parser.add_argument(
        "--configs", default=DEFAULT_CONFIGS, help=f"comma-separated, of: {', '.join(CONFIGS)}"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results file (default bench/results/fer2013.json; needed with --set)",
    )
    parser.add_argument(
        "--set",
        type=parse_set,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a param changed on top of each configuration (repeatable)",
    )
    parser.add_argument(
        "--reports", type=Path, metavar="DIR", help="keep each configuration's reports/ as DIR/NAME"
    )
    args = parser.parse_args()
    extra = dict(args.set)
    if args.out is None and extra:
        sys.exit(
            "bench: --set needs --out: bench/results/fer2013.json holds the unchanged "
            "configurations"
        )
    out = args.out or ROOT / "bench" / "results" / "fer2013.json"
    if not (args.data / "Training").is_dir():
        sys.exit(f"bench: {args.data}: no FER-2013 folder tree (Training/, PublicTest/) there")
    data = args.data.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-fer2013-") as tmp:
        parent = Path(tmp)
        results = {
            name: bench_config(parent, name, data, extra, args.reports)
            for name in args.configs.split(",")
        }
        sample = data / "fer2013-sample.csv"
        csv_import = bench_csv_import(parent, sample) if sample.exists() else None
    machine = (
        f"{describe_cpu()}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}"
    )
    results = {**earlier_runs(out, machine, extra), **results}
    report = {
        "machine": machine,
        "data": str(args.data),
        "set": extra,
        "configs": results,
        "csv_import": csv_import,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    if extra:
        print(
            "with "
            + shlex.join(
                arg for k, v in extra.items() for arg in ("-S", f"{k}={recipes.override(v)}")
            )
        )
    print(table(results))
    first = next(iter(results.values()))
    noops = ", ".join(f"{name} {r['noop_repro_s']:.1f} s" for name, r in results.items())
    print(
        f"\nprepare: {first['images_read']} images in {first['prepare_s']:.1f} s; no-op dvc "
        f"repro: {noops}"
    )
    if csv_import:
        print(
            f"CSV import: {csv_import['rows']} rows, {csv_import['csv_mb']} MB in "
            f"{csv_import['import_s']:.1f} s, "
            f"peak memory {csv_import['peak_rss_mb']} MB"
        )


if __name__ == "__main__":
    main()
