"""The whole configuration: every section of ``params.yaml`` in order, and the files derived from
their declarations (``params.yaml`` itself with its comments, and ``docs/parameters.md``).

    python -m emotions.config            rewrite params.yaml and docs/parameters.md from the
    declarations python -m emotions.config --check    exit 1, naming the file, if either differs
    from them
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from emotions import params
from emotions.errors import UserError, run_cli
from emotions.files import write_text
from emotions.params import Section
from emotions.training.networks import ModelParams

SECTIONS: tuple[type[Section], ...] = (
    params.DataParams,
    params.SampleParams,
    params.PrepareParams,
    params.SplitParams,
    ModelParams,
    params.TrainParams,
    params.AugmentParams,
    params.EvaluateParams,
)
REFERENCE = Path("docs/parameters.md")
HEADER = (
    "# Every key is checked when a stage starts: a typo or an out-of-range value stops it, naming "
    "the key.\n"
    "# Declared (default, check, description) in emotions/params.py and "
    "emotions/training/networks/;\n"
    "# `python -m emotions.config` rewrites this file from them. Reference: docs/parameters.md.\n"
)
COMMENT_COLUMN = 24  # comments start here where the key and value leave room


@dataclasses.dataclass(frozen=True)
class Key:
    """One line of ``params.yaml``: a key with its default, or a section heading (``wanted``
    empty)."""

    depth: int
    name: str
    value: Any
    doc: str
    wanted: str = ""

    @property
    def is_section(self) -> bool:
        return not self.wanted


def _entries(kind: type[Section], depth: int = 0, name: str | None = None) -> Iterator[Key]:
    yield Key(depth, name or kind.SECTION, None, kind.DOC)
    for field in dataclasses.fields(kind):
        if "networks" in field.metadata:  # the model section: one nested section per network
            for network_name, network in field.metadata["networks"].items():
                yield from _entries(network.Params, depth + 1, network_name)
            continue
        meta = field.metadata
        yield Key(depth + 1, field.name, meta["default"], meta["doc"], meta["rule"].wanted)


def keys() -> list[Key]:
    """Every line of ``params.yaml`` in order, with its default."""
    return [key for kind in SECTIONS for key in _entries(kind)]


def _flow(value: Any) -> str:
    """A value as it stands on one YAML line."""
    return (
        yaml.safe_dump(value, default_flow_style=True, width=1000).removesuffix("\n...\n").strip()
    )


def render_yaml(values: Mapping[str, Any] | None = None) -> str:
    """``params.yaml`` from the declarations, with each key's value from ``values`` (the raw params,
    where given) or its default, and its description as a comment."""
    lines, path = [HEADER.rstrip()], list[str]()
    for key in keys():
        path = path[: key.depth] + [key.name]
        if key.is_section:
            if key.depth == 0:
                lines.append("")
            text = f"{'  ' * key.depth}{key.name}:"
        else:
            value = key.value
            if values is not None:
                value = _lookup(values, path, default=value)
            text = f"{'  ' * key.depth}{key.name}: {_flow(value)}"
        if key.doc:
            text = f"{text.ljust(max(COMMENT_COLUMN, len(text) + 1))} # {key.doc}"
        lines.append(text)
    return "\n".join(lines) + "\n"


def _lookup(values: Mapping[str, Any], path: list[str], default: Any) -> Any:
    node: Any = values
    for name in path:
        if not isinstance(node, Mapping) or name not in node:
            return default
        node = node[name]
    return node


def render_reference() -> str:
    """``docs/parameters.md``: every key with its default, what it must be, and what it does."""
    lines = [
        "# Parameters",
        "",
        "Every key of `params.yaml`, generated from its declaration (`python -m "
        "emotions.config`): the",
        "default, what a value must be (a stage refuses anything else, naming the key), and what "
        "it does.",
        "Override one for an experiment with `dvc exp run -S key=value`, or run a named recipe",
        "([experiments](experiments.md)).",
    ]
    path: list[str] = []
    for key in keys():
        path = path[: key.depth] + [key.name]
        if key.is_section:
            lines += ["", f"## `{'.'.join(path)}`", ""]
            if key.doc:
                lines += [key.doc[0].upper() + key.doc[1:] + ".", ""]
            lines += ["| key | default | must be | what it does |", "|---|---|---|---|"]
            continue
        cells = (f"`{key.name}`", f"`{_flow(key.value)}`", key.wanted, key.doc)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def load_all(raw: Mapping[str, Any]) -> list[Any]:
    """Every section of ``raw`` read and checked, as a stage would: the first error names its
    key."""
    unknown = sorted(set(raw) - {kind.SECTION for kind in SECTIONS})
    if unknown:
        raise UserError(f"{unknown[0]}: unknown section in params.yaml")
    return [params.load(kind, raw) for kind in SECTIONS]


def defaults() -> dict[str, Any]:
    """The default params, as ``params.yaml`` is written with them."""
    return yaml.safe_load(render_yaml())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 if a file differs"
    )
    args = parser.parse_args()
    wanted = {params.PARAMS_FILE: render_yaml(), REFERENCE: render_reference()}
    stale = [
        path
        for path, text in wanted.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(
                f"error: {path}: differs from the declarations (run `python -m emotions.config`)",
                file=sys.stderr,
            )
        raise SystemExit(1 if stale else 0)
    for path in stale:
        write_text(path, wanted[path])
        print(f"config: wrote {path}")


if __name__ == "__main__":
    run_cli(main)
