"""One place per parameter: params.yaml, the reference and the tests' params all come from the
declarations, and every declared default passes its own check."""

from __future__ import annotations

import re

import pytest
import yaml

from emotions import config, params
from emotions.errors import UserError
from tests.conftest import ROOT, TINY_CHANGES, TINY_PARAMS, changed


def test_params_yaml_is_the_declarations_with_their_defaults() -> None:
    """A committed params.yaml holds the defaults; after an experiment, `git checkout
    params.yaml`."""
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    assert text == config.render_yaml(yaml.safe_load(text)), (
        "keys, order or comments differ from the declarations"
    )
    assert yaml.safe_load(text) == config.defaults(), "a value differs from its declared default"


def test_the_reference_lists_every_key_as_declared() -> None:
    reference = (ROOT / config.REFERENCE).read_text(encoding="utf-8")
    assert reference == config.render_reference()
    for key in config.keys():
        if not key.is_section:
            assert f"| `{key.name}` |" in reference


def test_every_default_passes_its_own_check() -> None:
    loaded = config.load_all(config.defaults())
    assert [type(section) for section in loaded] == list(config.SECTIONS)


def test_the_tests_params_change_only_declared_keys() -> None:
    defaults = config.defaults()
    for dotted in TINY_CHANGES:
        *path, key = dotted.split(".")
        node = defaults
        for name in path:
            node = node[name]
        assert key in node, dotted
    config.load_all(TINY_PARAMS)


def test_an_unknown_section_is_named() -> None:
    with pytest.raises(UserError, match="^trian: unknown section in params.yaml$"):
        config.load_all({**config.defaults(), "trian": {}})


@pytest.mark.parametrize("spelling", ["1e-3", "1E-3", "0.001", 1e-3, ".001"])
def test_numbers_in_any_yaml_spelling(spelling: object) -> None:
    """YAML 1.1 reads 1e-3 (no dot) as text: it is still the number a person typed."""
    raw = yaml.safe_load(yaml.safe_dump(changed(TINY_PARAMS, {"train.learning_rate": spelling})))
    assert params.load(params.TrainParams, raw).learning_rate == pytest.approx(0.001)


@pytest.mark.parametrize("text", ["fast", "1e-3x", "nan", ".inf", "-1e-3"])
def test_text_that_is_no_number_is_still_refused(text: str) -> None:
    raw = yaml.safe_load(yaml.safe_dump(changed(TINY_PARAMS, {"train.learning_rate": text})))
    with pytest.raises(
        UserError, match="^" + re.escape("train.learning_rate: must be a number > 0, got")
    ):
        params.load(params.TrainParams, raw)
