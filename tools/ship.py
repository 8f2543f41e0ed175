"""Ship a model trained on FER-2013 into ``pretrained/NAME``: its ``model.onnx`` and ``meta.json``
from the workspace that trained it (a clone of this project after ``dvc exp run``), checked, and a
``MODEL_CARD.md`` written from that workspace's lock, logs and metrics, with the model scored afresh
on ``PublicTest/`` as ``python -m stages.evaluate --model pretrained/NAME --data .../PublicTest``
scores it (the test suite compares the two where ``../shared`` exists).

With ``--with-shipped``, the new model joins the one in ``pretrained/NAME`` (trained on the same
data and split) as one ensemble file (``emotions.saved.ensemble``), and the card carries the earlier
model's training section over from its own card.

    python tools/ship.py WORKSPACE NAME --recipe best-seven --log WORKSPACE.log \
        --command "python -m emotions.recipes ..." [--data ../shared/data/fer2013] [--with-shipped]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import yaml

from emotions import params, recipes
from emotions.data import splitting, store
from emotions.data.store import Prepared
from emotions.evaluation.scoring import score_labelled_set
from emotions.saved.ensemble import networks, write_ensemble
from emotions.saved.runtime import Predictor
from emotions.training.precision import describe_cpu

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("model.onnx", "meta.json")
TRAINED = re.compile(r"\n## How it was trained\n\n(.*?)\n## Test metrics", re.S)


def source_hash(workspace: Path) -> str:
    """The DVC hash of the data source, as the workspace's lock recorded it for prepare."""
    lock = yaml.safe_load((workspace / "dvc.lock").read_text())
    deps = lock["stages"]["prepare"]["deps"]
    [source] = [d for d in deps if not d["path"].endswith(".py")]
    return f"{source['md5']} ({source.get('nfiles', '?')} files)"


def logged(pattern: str, log: str) -> str:
    match = re.search(pattern, log)
    if not match:
        sys.exit(f"ship: no match for {pattern!r} in the training log")
    return match.group(1)


def validation_part(workspace: Path) -> tuple[Prepared, np.ndarray]:
    """The workspace's prepared faces and the rows of its validation part."""
    return (
        store.load(workspace / "data" / "prepared"),
        splitting.load(workspace / "data" / "split.npz")["val"],
    )


def saved_val_accuracy(target: Path, workspace: Path) -> float:
    """The shipped file's accuracy on the workspace's validation part, its test-time views averaged:
    recomputed here, so that a workspace trained before train logged it ships as well."""
    prepared, val = validation_part(workspace)
    answers = Predictor(target).stored(prepared.faces, val).argmax(axis=1)
    return float(np.mean(answers == prepared.labels[val]))


def per_class_table(metrics: dict[str, Any]) -> str:
    rows = ["| class | precision | recall | F1 | faces |", "|---|---|---|---|---|"]
    for name, m in metrics["per_class"].items():
        rows.append(
            f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
            f"{m['support']} |"
        )
    return "\n".join(rows)


def run_section(workspace: Path, recipe: str, command: str, log: str, shipped_val: float) -> str:
    """How one network was trained: the command, code, recipe, seed, CPU, speed and validation."""
    val = json.loads((workspace / "dvclive" / "train" / "metrics.json").read_text())["eval"]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=workspace, capture_output=True, text=True
    ).stdout.strip()
    changes = dict(sorted(recipes.load(recipe, ROOT / "recipes").items()))
    recipe_params = yaml.safe_dump(changes, default_flow_style=None, width=96).strip()
    trained = logged(r"train: (.* images/s)", log)
    seed = seed_of(workspace)
    return f"""```bash
{command}
```

Code at commit `{commit}`; recipe `recipes/{recipe}.yaml`, which sets on top of `params.yaml`:

```yaml
{recipe_params}
```

Seed {seed}, float32 arithmetic, on {describe_cpu()}: {trained}.
Validation accuracy: {val["accuracy"]:.4f} at the last epoch (one view of each face),
{shipped_val:.4f} as shipped (its test-time views averaged).
"""


def ensemble_section(sections: dict[str, str], accuracy: list[float], earlier: str) -> str:
    """How an ensemble of the new run and the networks shipped before was made: the validation
    figures that chose it, then each network's own section (``sections``: by label)."""
    each = "; ".join(f"{name}: {a:.4f}" for name, a in zip(sections, accuracy, strict=False))
    body = "\n".join(f"### {name}\n\n{text.strip()}\n" for name, text in sections.items())
    intro = (
        f"{len(sections)} networks in one file: their probabilities averaged, each network "
        "weighing the same, then calibrated by one temperature fitted on the validation part they "
        "share (`tools/ship.py --with-shipped`, `emotions/saved/ensemble.py`). Validation "
        f"accuracy, test-time views averaged: {each}; the ensemble: {accuracy[-1]:.4f}. The new "
        f"run is the first; the others were shipped before (commit `{earlier}`), their sections "
        "as that card gave them."
    )
    return f"{textwrap.fill(intro, 100, break_on_hyphens=False)}\n\n{body}"


def label(section: str, where: Path) -> str:
    """A network by its recipe and seed, as its training section names them."""
    recipe = re.search(r"recipe `recipes/([\w.-]+)\.yaml`", section)
    seed = re.search(r"\bSeed (\d+)", section)
    if not recipe or not seed:
        sys.exit(f"ship: {where}'s card has a training section that names no recipe or seed")
    return network_label(recipe.group(1), int(seed.group(1)))


def network_label(recipe: str, seed: int) -> str:
    return f"`{recipe}`, seed {seed}"


def seed_of(workspace: Path) -> int:
    return int(yaml.safe_load((workspace / "params.yaml").read_text())["train"]["seed"])


def shipped_sections(card_text: str, where: Path) -> dict[str, str]:
    """The training section of a card, one entry per network, by its label."""
    section = TRAINED.search(card_text)
    if not section:
        sys.exit(f"ship: {where}'s card has no training section")
    parts = re.split(r"^### .*\n\n", section.group(1), flags=re.M)
    runs = parts[1:] if len(parts) > 1 else parts
    return {label(run, where): run for run in runs}


def card(
    name: str,
    workspace: Path,
    how: str,
    log: str,
    test: dict[str, Any],
    test_path: str,
) -> str:
    meta = json.loads((workspace / "models" / "meta.json").read_text())
    size_mb = (ROOT / "pretrained" / name / "model.onnx").stat().st_size / 2**20
    calibration = test["calibration"]
    classes = ", ".join(meta["classes"])
    read = logged(r"prepare: (\d+) read", log)
    count = len(networks(onnx.load(str(ROOT / "pretrained" / name / "model.onnx"))))
    what, reads, gives = (
        ("a CNN", "reads", "gives") if count == 1 else (f"{count} CNNs, averaged,", "read", "give")
    )
    ece = f"{calibration['ece_before']:.4f} before, {calibration['ece_after']:.4f} after"
    nll = f"{calibration['nll_before']:.4f} -> {calibration['nll_after']:.4f}"
    side = f"{meta['image_size']}x{meta['image_size']}"
    f1 = {name: m["f1"] for name, m in test["per_class"].items()}
    low = sorted(f1, key=f1.__getitem__)[:2]
    weakest = (
        f"The least reliable classes are {low[0]} and {low[1]} (F1 {f1[low[0]]:.2f} and "
        f"{f1[low[1]]:.2f}):\n  the rarer or subtler expressions, and those FER-2013's labellers "
        "disagree on most."
    )
    return f"""# {name}: emotion of a face, {len(meta["classes"])} classes, from FER-2013

`model.onnx` ({size_mb:.1f} MB) and `meta.json`: {what} that {reads} a {side} {meta["color"]} face
and {gives} the probability of each of {classes}.
It runs with onnxruntime alone (no TensorFlow, no pipeline run):

```bash
python -m stages.predict --model pretrained/{name} photo.jpg   # or a folder, a video
```

In a photo the faces are found (OpenCV's Haar cascade) and each is classified; an image that
already is a face crop is classified whole, as the model was trained.

## Data

FER-2013 (the ICML 2013 representation-learning challenge): 48x48 gray face crops from web image
search, one label each, given by one person. The pipeline read the {read} faces of `Training/` and
`PublicTest/` of its classes, removed exact duplicates, faces with conflicting labels and training
faces also in `PublicTest/`, and trained on `Training/`, 5% of it held out for validation;
`PublicTest/` was never seen in training and is scored once, below. The source folder's DVC hash
(from the training run's `dvc.lock`): `{source_hash(workspace)}`.

## How it was trained

{how}
## Test metrics: `PublicTest/`, {test["test_images"]} faces

```bash
python -m stages.evaluate --model pretrained/{name} --data {test_path} --json
```

accuracy **{test["accuracy"]:.4f}**, macro-F1 **{test["macro_f1"]:.4f}**

{per_class_table(test)}

Calibration (the saved model answers `softmax(log(p) / T)` of its own probabilities `p`, the
temperature `T` fitted on validation, {calibration["temperature"]:.3f}): expected calibration
error {ece}; negative log-likelihood {nll}.

## Intended use

Learning, teaching and prototyping: classifying the expression of frontal faces in photos, folders
and videos, and a teacher or baseline for models trained with this pipeline. Not for decisions
about people (hiring, policing, health, credit, surveillance): a facial expression is not an
emotion felt, and the error rates above are far from zero.

## Limits

- Trained on 48-pixel gray frontal crops: profiles, occlusions, small or blurred faces and lighting
  unlike web photos score worse. Colour is discarded.
- FER-2013's people: mostly adults, from web searches for emotion words, with the demographic
  skew of such searches; accuracy across ages, skin tones and cultures was not measured.
- FER-2013's labels are noisy (one person per face; ten people per face, FER+, agree with that
  label for about 62-64% of `PublicTest/`): the figures above measure agreement with that one label.
- {weakest}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workspace", type=Path)
    parser.add_argument("name")
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--log", type=Path, required=True, help="the training run's output")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "fer2013")
    parser.add_argument("--command", required=True, help="the command that trained it")
    parser.add_argument(
        "--with-shipped",
        action="store_true",
        help="ship an ensemble of this model and the one in pretrained/NAME (the same split)",
    )
    args = parser.parse_args()
    target = ROOT / "pretrained" / args.name
    log = args.log.read_text()
    run = args.workspace, args.recipe, args.command, log
    if args.with_shipped:
        how = with_shipped(target, args.workspace, run)
    else:
        target.mkdir(parents=True, exist_ok=True)
        for file in SHIPPED:
            shutil.copy(args.workspace / "models" / file, target / file)
        Predictor(target)  # the ONNX check: meta.json and the graph agree
        how = run_section(*run, saved_val_accuracy(target, args.workspace))
    test = score_labelled_set(
        target, args.data / "PublicTest", params.load(params.DataParams)
    ).metrics
    test_path = "../shared/data/fer2013/PublicTest"
    text = card(args.name, args.workspace, how, log, test, test_path)
    (target / "MODEL_CARD.md").write_text(text, encoding="utf-8")
    print(f"ship: {target}: accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}")


def with_shipped(target: Path, workspace: Path, run: tuple[Path, str, str, str]) -> str:
    """The workspace's model and the networks shipped in ``target`` averaged into ``target``; the
    card's training section for all. The earlier networks must have trained on the same data (its
    card's DVC hash) and so, by the same split params, on the same split."""
    earlier_card = (target / "MODEL_CARD.md").read_text(encoding="utf-8")
    if source_hash(workspace) not in earlier_card:
        sys.exit(f"ship: {target}'s card names other data than {workspace}'s dvc.lock")
    earlier_runs = shipped_sections(earlier_card, target)
    new_label = network_label(run[1], seed_of(workspace))
    if new_label in earlier_runs:
        sys.exit(f"ship: {target} already holds {new_label}")
    held = len(networks(onnx.load(str(target / "model.onnx"))))
    if held != len(earlier_runs):
        sys.exit(f"ship: {target}'s card describes {len(earlier_runs)} networks, its model {held}")
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h", "--", str(target / "model.onnx")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / "earlier"
        shutil.copytree(target, earlier)
        prepared, val = validation_part(workspace)
        members = [workspace / "models", earlier]
        accuracy = write_ensemble(members, prepared, val, target)
    for name, value in accuracy.items():
        print(f"ship: validation accuracy {value:.4f} ({name}, {len(val)} faces)")
    figures = list(accuracy.values())
    sections = {new_label: run_section(*run, figures[0]), **earlier_runs}
    return ensemble_section(sections, figures, commit)


if __name__ == "__main__":
    main()
