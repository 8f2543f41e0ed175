"""Training speed of the `seven` network at 32 and 48 px with oneDNN's best kernels for this CPU and
with oneDNN held to AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`): on an AVX-512 CPU the second row shows about
what a CPU with AVX2 alone would do, which is how much of a speed-up the AVX-512 kernels give.

    python bench/kernels.py [--faces 6144] [--epochs 2]

Random faces, float32, oneDNN on; the network, batch size and learning rate of recipes/seven.yaml.
The first epoch of each size is a warm-up and not timed. Each row runs in its own
process, since oneDNN reads the variable once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from emotions.training.precision import ONEDNN_ENV

ROOT = Path(__file__).resolve().parent.parent

ISAS = ("native", "AVX2")
SIZES = (32, 48)


def measure(faces: int, epochs: int) -> None:
    """Print one line per size: images per second over ``epochs`` timed epochs."""
    import keras
    import numpy as np

    from emotions import params, recipes
    from emotions.training.networks import ModelParams, vgg

    raw = recipes.applied(recipes.load("seven", ROOT / "recipes"))
    network, train = params.load(ModelParams, raw).network, params.load(params.TrainParams, raw)
    classes = len(raw["data"]["classes"])
    batch = train.batch_size
    keras.utils.set_random_seed(0)
    for size in SIZES:
        model = vgg.build(None, 1, classes, network)
        model.compile(
            keras.optimizers.Adam(train.learning_rate), keras.losses.SparseCategoricalCrossentropy()
        )
        x = np.random.rand(faces, size, size, 1).astype("float32")
        y = np.random.randint(0, classes, faces)
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        started = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
        print(f"{size} {epochs * faces / (time.perf_counter() - started):.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=6144)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.faces, args.epochs)
        return
    print("| oneDNN kernels | 32 px images/s | 48 px images/s |\n|---|---|---|")
    for isa in ISAS:
        env = {**os.environ, ONEDNN_ENV: "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.pop("ONEDNN_MAX_CPU_ISA", None)
        if isa != "native":
            env["ONEDNN_MAX_CPU_ISA"] = isa
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--faces",
            str(args.faces),
            "--epochs",
            str(args.epochs),
        ]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        speeds = dict(line.split() for line in out.splitlines())
        print(
            f"| {'this CPU' if isa == 'native' else 'held to ' + isa} | {speeds['32']} | "
            f"{speeds['48']} |"
        )


if __name__ == "__main__":
    main()
