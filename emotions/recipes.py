"""Named recipes: small YAML files in ``recipes/`` of dotted params (``train.epochs: 40``) set on
top of ``params.yaml``, one recipe maybe extending another. Each is checked against the declarations
before anything runs, and runs as a DVC experiment, so ``dvc exp show`` lists every value it set.

    python -m emotions.recipes recommended          dvc exp run -S ... with the recipe's params
    python -m emotions.recipes seven --queue        any further option goes to dvc exp run
    python -m emotions.recipes recommended --print  only print the command
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from emotions import config
from emotions.errors import UserError, run_cli

RECIPES = Path("recipes")
EXTENDS = "extends"


def names(folder: Path = RECIPES) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.yaml"))


def load(name: str, folder: Path = RECIPES) -> dict[str, Any]:
    """The recipe's dotted params, its ``extends`` chain resolved (the recipe's own values last),
    checked against the declarations: an error names the file and the key."""
    chain: list[str] = []
    changes: dict[str, Any] = {}
    while name:
        path = folder / f"{name}.yaml"
        if name in chain:
            raise UserError(f"{path}: extends itself (through {' -> '.join(chain)})")
        chain.append(name)
        raw = _read(path, folder)
        name = raw.pop(EXTENDS, "")
        changes = {**raw, **changes}
    check(changes, str(folder / f"{chain[0]}.yaml"))
    return changes


def _read(path: Path, folder: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(names(folder)) or "none"
        raise UserError(f"{path}: no such recipe (the recipes are: {known})") from None
    except yaml.YAMLError:
        raise UserError(f"{path}: not valid YAML") from None
    if not isinstance(raw, Mapping) or not all(isinstance(key, str) for key in raw):
        raise UserError(f"{path}: must be a mapping of dotted params (train.epochs: 40)")
    return dict(raw)


def check(changes: Mapping[str, Any], where: str) -> None:
    """Every key a declared param, every value one its check accepts (on top of the defaults)."""
    try:
        config.load_all(applied(changes, where))
    except UserError as err:
        raise UserError(f"{where}: {err}") from None


def applied(changes: Mapping[str, Any], where: str = "recipe") -> dict[str, Any]:
    """The default params with a recipe's dotted params set."""
    raw = config.defaults()
    for dotted, value in changes.items():
        *sections, key = dotted.split(".")
        node: Any = raw
        for part in sections:
            node = node.get(part) if isinstance(node, dict) else None
        whole_section = (
            isinstance(node, dict)
            and isinstance(node.get(key), dict)
            and key not in ("aliases", "sets")
        )
        if not isinstance(node, dict) or key not in node or whole_section:
            raise UserError(f"{where}: {dotted}: not a param (see docs/parameters.md)")
        node[key] = value
    return raw


def override(value: Any) -> str:
    """A value as ``dvc exp run -S`` reads it (YAML): booleans and lists as JSON, the rest as
    text."""
    return (
        json.dumps(value, separators=(",", ":"))
        if isinstance(value, (bool, list, dict))
        else str(value)
    )


def command(name: str, more: list[str]) -> list[str]:
    sets = [arg for key, value in load(name).items() for arg in ("-S", f"{key}={override(value)}")]
    return ["dvc", "exp", "run", *sets, *more]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("recipe", help=f"a file of {RECIPES}/ without .yaml: {', '.join(names())}")
    parser.add_argument(
        "--print", action="store_true", help="print the command instead of running it"
    )
    args, more = parser.parse_known_args()
    cmd = command(args.recipe, more)
    if args.print:
        print(shlex.join(cmd))
        return
    print(f"recipes: {shlex.join(cmd)}", file=sys.stderr, flush=True)
    raise SystemExit(subprocess.run([sys.executable, "-m", *cmd]).returncode)


if __name__ == "__main__":
    run_cli(main)
