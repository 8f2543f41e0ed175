"""The packages are layers in the order the data moves, and each imports only the layers below
it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Lowest first. Packages of one rank are siblings: neither may import the other.
RANKS = {
    "emotions": 0,  # errors, files, params, progress, drawing: what every layer uses
    "emotions.data": 1,  # raw files to prepared arrays and parts
    "emotions.demo": 2,  # generated faces and clips
    "emotions.saved": 2,  # the saved model: its folder, runtime and calibration
    "emotions.training": 3,
    "emotions.evaluation": 3,
    "emotions.prediction": 3,
    "emotions.config": 4,  # every section's params together
    "emotions.recipes": 5,  # named sets of params, checked against them
    "stages": 6,
}


def layer(module: str) -> str:
    """The entry of ``RANKS`` a module belongs to: the longest that prefixes it."""
    return max((name for name in RANKS if module == name or module.startswith(name + ".")), key=len)


def imports(source: str) -> set[str]:
    """The project modules ``source`` imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in ("emotions", "stages")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def wrong_way(module: str, source: str) -> list[str]:
    """The imports of ``module`` (its code ``source``) that point sideways or up."""
    own = layer(module)
    bad = []
    for target in sorted(imports(source)):
        other = layer(target)
        if other != own and RANKS[other] >= RANKS[own]:
            bad.append(f"{module} imports {target} ({other}, rank {RANKS[other]} >= {RANKS[own]})")
    return bad


SOURCES = sorted(p for folder in ("emotions", "stages") for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_import_points_down(path: Path) -> None:
    assert wrong_way(module_name(path), path.read_text()) == []


def test_every_module_has_a_layer() -> None:
    packages = {module_name(p) for p in SOURCES if p.name == "__init__.py"}
    top = {name for name in packages if name.count(".") == 1 or name == "stages"}
    assert top <= set(RANKS), f"a package without a rank: {sorted(top - set(RANKS))}"


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("saved.runtime", "training.fit"),
        ("evaluation.scoring", "prediction.classify"),
        ("data.store", "saved"),
    ],
)
def test_a_sideways_or_upward_import_is_caught(module: str, target: str) -> None:
    """The check itself, at the top of a module or inside a function."""
    assert wrong_way(f"emotions.{module}", f"from emotions.{target} import something\n")
    assert wrong_way(f"emotions.{module}", f"def late():\n    import emotions.{target}\n")
