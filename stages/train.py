"""Stage train: fit the CNN on the train part and save it in Keras format with its class list."""

from __future__ import annotations

import argparse
from pathlib import Path

from emotions import params
from emotions.data import splitting, store
from emotions.errors import run_cli
from emotions.saved import bundle
from emotions.training import networks, precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prepared", type=Path, default=Path("data/prepared"))
    parser.add_argument("--split", type=Path, default=Path("data/split.npz"))
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--live-dir", type=Path, default=Path("dvclive/train"))
    args = parser.parse_args()
    model_params = params.load(networks.ModelParams)
    train_params = params.load(params.TrainParams)
    augment_params = params.load(params.AugmentParams)
    prepared = store.load(args.prepared)
    split = splitting.load(args.split)

    precision.set_onednn(
        train_params.onednn, train_params.precision
    )  # TensorFlow reads it once, on import
    # TensorFlow loads only once the inputs are known to be good
    from emotions.training.train import train

    difference = train(
        prepared, split, model_params, train_params, augment_params, args.model_dir, args.live_dir
    )
    if difference is None:
        print("train: done; worker 0 of TF_CONFIG, the chief, writes the model and dvclive")
        return
    print(
        f"train: model saved to {args.model_dir / bundle.MODEL_FILE} and exported to "
        f"{args.model_dir / bundle.ONNX_FILE} "
        f"(largest difference on the validation images {difference:.1e})"
    )


if __name__ == "__main__":
    run_cli(main)
