"""dvc.yaml must list exactly the code each stage runs: DVC cannot see imports by itself."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
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
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "emotions"
        ):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = (ROOT / (sub.replace(".", "/") + ".py")).exists() or (
                    ROOT / sub.replace(".", "/")
                ).is_dir()
                found.add(sub if is_module else node.module)
    return found


def module_file(module: str) -> str:
    """A module's file; a subpackage is its folder: it finds its modules at run time (the networks),
    so DVC must hash the whole folder, and a module added to it later is a dependency too."""
    path = module.replace(".", "/")
    return path if (ROOT / path).is_dir() else path + ".py"


def code_closure(script: str) -> set[str]:
    """The script plus every project module it imports, transitively, with the packages they sit
    in."""
    seen = {script, "emotions/__init__.py"}
    todo = [script]
    while todo:
        path = ROOT / todo.pop()
        for file in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            for module in project_imports(file):
                for name in [*packages(module), module_file(module)]:
                    if name not in seen:
                        seen.add(name)
                        todo.append(name)
    return seen


def packages(module: str) -> list[str]:
    """The ``__init__.py`` of every package above a module: Python runs each on import."""
    parts = module.split(".")
    return [
        ROOT.joinpath(*parts[:i], "__init__.py").relative_to(ROOT).as_posix()
        for i in range(1, len(parts))
    ]


def stage_spec(stage: str) -> dict:
    """A stage's definition; for a ``foreach`` stage, the one every instance shares."""
    spec = STAGES[stage]
    return spec.get("do", spec)


def stage_script(stage: str) -> str:
    return module_file(re.search(r"python -m (stages\.\w+)", stage_spec(stage)["cmd"]).group(1))


def python_files(entries: set[str]) -> set[str]:
    """Each entry's Python files: a file itself, a folder every ``.py`` file below it."""
    files: set[str] = set()
    for entry in entries:
        path = ROOT / entry
        found = path.rglob("*.py") if path.is_dir() else [path]
        files |= {p.relative_to(ROOT).as_posix() for p in found if "__pycache__" not in p.parts}
    return files


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_code_deps_are_exactly_the_imported_modules(stage: str) -> None:
    """A listed folder stands for all its modules: every one of them must be imported."""
    deps = stage_spec(stage)["deps"]
    listed = {d for d in deps if d.endswith(".py") or (ROOT / d / "__init__.py").exists()}
    assert python_files(listed) == python_files(code_closure(stage_script(stage)))
    assert len(listed) == len([d for d in deps if d in listed]), "a module listed twice"


def test_dvc_yaml_stays_one_screen_of_map() -> None:
    lines = (ROOT / "dvc.yaml").read_text().splitlines()
    assert len(lines) <= 150 and max(map(len, lines)) <= 100


def test_every_stage_script_has_a_stage() -> None:
    scripts = {f"stages/{p.name}" for p in (ROOT / "stages").glob("*.py") if p.stem != "__init__"}
    assert scripts == {stage_script(stage) for stage in STAGES}
    assert {Path(script).stem for script in scripts} <= set(STAGES)


def test_each_extra_test_set_is_scored_from_the_model_and_its_path_into_its_metrics_file() -> None:
    spec = STAGES["evaluate_set"]
    assert spec["foreach"] == "${evaluate.sets}"
    do = spec["do"]
    assert '--set "${key}"' in do["cmd"] and "--out-dir reports " in do["cmd"] + " "
    assert {d for d in do["deps"] if not d.startswith(("emotions/", "stages/"))} == {
        "models",
        "${item}",
    }
    assert do["metrics"] == ["reports/sets/${key}.json"]


@pytest.mark.slow
def test_the_lock_matches_the_committed_code_and_params() -> None:
    """`dvc.lock` records the hash of every code file and param a stage ran with: on a clone it
    must match the checkout, or `dvc status` says code changed that did not (and a rerun is owed).
    Data and outputs may be absent here; code, params and stage definitions may not differ."""
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--json"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    stale = []
    for stage, changes in json.loads(result.stdout or "{}").items():
        for change in changes:
            if not isinstance(change, dict):  # "changed command", "always changed"
                stale.append(f"{stage}: {change}")
                continue
            for path, how in change.get("changed deps", {}).items():
                if path.startswith(("emotions/", "stages/")) or path == "params.yaml":
                    stale.append(f"{stage}: {path} {how}")
    assert stale == [], "dvc.lock is stale: run `dvc repro` and commit dvc.lock"
