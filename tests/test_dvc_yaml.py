"""dvc.yaml must list exactly the code each stage runs: DVC cannot see imports by itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text())
STAGES = PIPELINE["stages"]


def project_imports(path: Path) -> set[str]:
    """Project modules (``emotions.x``) imported anywhere in ``path``, lazily or not."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "emotions"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "emotions":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if (ROOT / (sub.replace(".", "/") + ".py")).exists() else node.module)
    return found


def module_file(module: str) -> str:
    return module.replace(".", "/") + ".py"


def code_closure(script: str) -> set[str]:
    """The script plus every project module it imports, transitively, plus the package's __init__."""
    seen = {script, "emotions/__init__.py"}
    todo = [script]
    while todo:
        for module in project_imports(ROOT / todo.pop()):
            name = module_file(module) if module != "emotions" else "emotions/__init__.py"
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_code_deps_are_exactly_the_imported_modules(stage: str) -> None:
    spec = STAGES[stage]
    script = module_file(re.search(r"python -m (stages\.\w+)", spec["cmd"]).group(1))
    listed = {d for d in spec["deps"] if d.endswith(".py")}
    assert listed == code_closure(script)


def test_every_stage_script_has_a_stage() -> None:
    scripts = {p.stem for p in (ROOT / "stages").glob("*.py") if p.stem != "__init__"}
    assert scripts == set(STAGES)
