"""Benchmark of prediction speed: the exported ONNX model next to Keras, in one run.

    python bench/predict.py [--model-dir models] [--runs 7] [--files 5000,50000]
    python bench/predict.py --model-dir pretrained/fer2013-seven --out OUT.json --files 5000

Cold start: whole processes, median of --runs each: `python -c "import tensorflow"`,
`python -c "import cv2, numpy"`, and `python -m stages.predict IMAGE --json` (face detection off).
Throughput: 4,096 preprocessed crops at batch 256, onnxruntime against Keras `model.predict`.
Memory: `python -m stages.predict FOLDER --csv` on folders of --files generated face PNGs (drawn,
each made unique), its time and peak memory (the kernel's high-water mark of the process).
A model without its Keras file (a shipped one) skips Keras. An ensemble
(``emotions.saved.ensemble``) is measured next to its first network alone: what averaging several
networks costs.
Results go to bench/results/predict.json and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnx

from emotions.saved import bundle
from emotions.saved.ensemble import networks
from emotions.saved.runtime import BATCH_SIZE, Predictor

ROOT = Path(__file__).resolve().parent.parent


def cold(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def folder_runs(model_dir: Path, counts: list[int], work: Path) -> dict[int, dict[str, float]]:
    """Seconds and peak MB of predict on a folder of each number of face files."""
    from emotions.demo.faces import EXPRESSIONS, draw_face

    rng = np.random.default_rng(0)
    pool = [draw_face(EXPRESSIONS[i % len(EXPRESSIONS)], rng, 48) for i in range(60)]
    results = {}
    for count in counts:
        folder = work / f"faces-{count}"
        folder.mkdir()
        for i in range(count):
            face = pool[i % len(pool)].copy()
            face[0, :3] = (i % 256, (i // 256) % 256, i // 65536)  # every file a face of its own
            cv2.imwrite(str(folder / f"{i:06d}.png"), face)
        command = [sys.executable, "-m", "stages.predict", "--model", str(model_dir), "--csv"]
        started = time.perf_counter()
        child = subprocess.Popen(
            [*command, str(folder)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: predict on {folder} failed")
        seconds = time.perf_counter() - started
        results[count] = {"seconds": round(seconds, 1), "peak_mb": round(usage.ru_maxrss / 1024)}
        shutil.rmtree(folder)
    return results


def throughput(predict, images: np.ndarray, rounds: int = 3) -> float:
    predict(images[:BATCH_SIZE])  # warm up
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        predict(images)
        best = max(best, len(images) / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--files", default="5000,50000", help="face files per folder run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "predict.json")
    args = parser.parse_args()
    predictor = Predictor(args.model_dir)  # a missing model is named here
    size = predictor.meta.image_size
    images = np.random.default_rng(0).random((4096, size, size), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "face.png"
        cv2.imwrite(str(image), (images[0] * 255).astype(np.uint8))
        python = sys.executable
        times = {
            "import tensorflow": cold([python, "-c", "import tensorflow"], args.runs),
            "import cv2, numpy": cold([python, "-c", "import cv2, numpy"], args.runs),
            "predict one image (onnx)": cold(
                [
                    python,
                    "-m",
                    "stages.predict",
                    str(image),
                    "--json",
                    "--model-dir",
                    str(args.model_dir),
                ],
                args.runs,
            ),
        }
        counts = [int(n) for n in args.files.split(",")]
        folders = {"model": folder_runs(args.model_dir, counts, Path(tmp))}
        rates = {"onnxruntime": throughput(predictor.probabilities, images)}
        parts = networks(onnx.load(str(args.model_dir / bundle.ONNX_FILE)))
        if len(parts) > 1:
            alone = Path(tmp) / "one network"
            alone.mkdir()
            onnx.save(parts[0], str(alone / bundle.ONNX_FILE))
            bundle.write_meta(predictor.meta, alone)
            one_network = f"one network of the {len(parts)} averaged"
            folders[one_network] = folder_runs(alone, counts, Path(tmp))
            rates[f"onnxruntime, {one_network}"] = throughput(
                Predictor(alone).probabilities, images
            )
    keras_version = None
    if (args.model_dir / bundle.MODEL_FILE).is_file():
        import keras

        from emotions.training.keras_file import load_keras

        model = load_keras(args.model_dir)
        keras_version = keras.__version__
        rates["keras model.predict"] = throughput(
            lambda x: model.predict(x[..., np.newaxis], batch_size=BATCH_SIZE, verbose=0), images
        )
    one = times["predict one image (onnx)"]
    report = {
        "model": str(args.model_dir),
        "networks": len(parts),
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
        "cold_s": {k: round(v, 3) for k, v in times.items()},
        "cold_vs_tensorflow_import": round(one / times["import tensorflow"], 3),
        "cold_vs_cv2_numpy_import": round(one / times["import cv2, numpy"], 2),
        "images_per_s_batch_256": {k: round(v) for k, v in rates.items()},
        "keras": keras_version,
        "folder_runs": folders,
    }
    if keras_version:
        report["throughput_ratio"] = round(rates["onnxruntime"] / rates["keras model.predict"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print("| measure | value |\n|---|---|")
    for name, seconds in times.items():
        print(f"| cold `{name}` (median of {args.runs}) | {seconds:.2f} s |")
    print(
        f"| one-image predict / `import tensorflow` | {report['cold_vs_tensorflow_import']:.2f} "
        "(goal <= 0.10) |"
    )
    print(
        f"| one-image predict / `import cv2, numpy` | {report['cold_vs_cv2_numpy_import']:.2f} "
        "(goal <= 2.5) |"
    )
    for name, rate in rates.items():
        print(f"| {name}, 4,096 crops at batch 256 | {rate:.0f} images/s |")
    if keras_version:
        ratio = report["throughput_ratio"]
        print(f"| onnxruntime / Keras throughput | {ratio:.2f} (goal >= 1.2) |")
    else:
        print(f"| Keras | skipped: no {bundle.MODEL_FILE} in {args.model_dir} |")
    for which, runs in folders.items():
        for count, run in runs.items():
            print(
                f"| predict on a folder of {count:,} face files, {which} | {run['seconds']:.1f} "
                f"s, peak {run['peak_mb']} MB |"
            )


if __name__ == "__main__":
    main()
