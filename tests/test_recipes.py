"""Recipes: YAML files of dotted params, checked against the declarations, run as DVC
experiments."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from emotions import recipes
from emotions.errors import UserError
from tests.conftest import ROOT


@pytest.mark.parametrize("name", recipes.names(ROOT / "recipes"))
def test_every_shipped_recipe_is_valid(name: str) -> None:
    recipes.load(name, ROOT / "recipes")


def test_a_recipe_extends_another_and_wins_where_both_set_a_key() -> None:
    seven = recipes.load("seven", ROOT / "recipes")
    recommended = recipes.load("recommended", ROOT / "recipes")
    assert seven["model.vgg.width"] == recommended["model.vgg.width"] == 24  # from recommended
    assert seven["train.epochs"] == 20 and recommended["train.epochs"] == 40  # its own
    assert seven["model.architecture"] == "vgg"  # from previous, two steps up
    assert "extends" not in seven


def write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train.epoch: 3\n", "train.epoch: not a param"),
        ("model.vgg: {width: 3}\n", "model.vgg: not a param"),
        ("train.epochs: 0\n", "train.epochs: must be an integer >= 1, got 0"),
        ("train.epochs: [\n", "not valid YAML"),
        ("- train.epochs\n", "must be a mapping of dotted params"),
        ("extends: nowhere\n", "nowhere.yaml: no such recipe (the recipes are: bad)"),
    ],
)
def test_a_bad_recipe_names_its_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "bad", text)
    with pytest.raises(UserError, match=re.escape(message)) as caught:
        recipes.load("bad", tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_a_recipe_that_extends_itself_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a", "extends: b\n")
    write(tmp_path, "b", "extends: a\n")
    with pytest.raises(UserError, match=r"a\.yaml: extends itself \(through a -> b\)"):
        recipes.load("a", tmp_path)


@pytest.mark.slow  # a process of its own
def test_the_command_sets_every_param_of_the_recipe() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emotions.recipes", "seven", "--print", "--queue"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("dvc exp run -S split.val_fraction=0.05 ") and line.endswith(" --queue")
    assert (
        '-S \'data.classes=["angry","disgust","fear","happy","sad","surprise","neutral"]\'' in line
    )
    assert "-S model.tta_flip=true" in line and line.count(" -S ") == len(
        recipes.load("seven", ROOT / "recipes")
    )


@pytest.mark.slow  # a process of its own
def test_an_unknown_recipe_is_one_error_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emotions.recipes", "fastest"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr
        == "error: recipes/fastest.yaml: no such recipe (the recipes are: best, best-crops, "
        "best-seven, crowd, extra, previous, recommended, sample, seven, seven-crops, seven-long)\n"
    )
