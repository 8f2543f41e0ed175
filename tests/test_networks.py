"""The networks are plug-ins: each a module of emotions/training/networks, found by name, with its
own params."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from emotions import params
from emotions.data import splitting
from emotions.errors import UserError
from emotions.training import networks
from tests.conftest import CLASSES, TINY_PARAMS, changed, make_dataset, prepare_source, train_model

TINY_NETWORK = '''"""A flatten and a softmax: the smallest network there is."""

from __future__ import annotations

from dataclasses import dataclass

from emotions.params import Section, param, positive

ANY_SIZE = False


@dataclass(frozen=True)
class Params(Section):
    scale: float = param(1.0, positive(), "what the pixels are multiplied by")


def smallest_size(p):
    return 1, "1"


def build(image_size, channels, num_classes, p):
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, channels)),
            keras.layers.Rescaling(p.scale),
            keras.layers.Flatten(),
            keras.layers.Dense(num_classes, activation="softmax", dtype="float32"),
        ],
        name="tiny",
    )
'''


def test_every_module_of_the_package_is_a_network() -> None:
    from emotions.training.networks import reference, vgg

    assert networks.NETWORKS == {"reference": reference, "vgg": vgg}
    assert not reference.ANY_SIZE and vgg.ANY_SIZE


@pytest.fixture
def tiny_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tiny.py found as a new file in emotions/training/networks would be: the package's folders
    searched by the registry's own discovery (a temporary folder added to them)."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "tiny.py").write_text(TINY_NETWORK)
    monkeypatch.setattr(networks, "__path__", [*networks.__path__, str(folder)])
    found = networks._discover()
    assert set(found) == {"reference", "tiny", "vgg"}
    monkeypatch.setitem(networks.NETWORKS, "tiny", found["tiny"])
    monkeypatch.setitem(
        sys.modules, "emotions.training.networks.tiny", found["tiny"]
    )  # all three forgotten afterwards
    monkeypatch.setattr(networks, "tiny", found["tiny"], raising=False)


def with_tiny(**changes: object) -> dict:
    return changed(TINY_PARAMS, {"model.tiny": {"scale": 1.0}, **changes})


@pytest.mark.usefixtures("tiny_network")
def test_a_new_networks_section_is_validated_like_the_others() -> None:
    with pytest.raises(UserError, match=re.escape("model.tiny.scale: must be a number > 0, got 0")):
        params.load(networks.ModelParams, with_tiny(**{"model.tiny.scale": 0}))
    with pytest.raises(UserError, match=re.escape("model.tiny: missing section in params.yaml")):
        params.load(networks.ModelParams, TINY_PARAMS)


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_network")
def test_a_new_network_is_built_by_its_name_and_trains(tmp_path: Path) -> None:
    from emotions.training.networks import build_model

    raw = with_tiny(**{"model.architecture": "tiny"})
    model_params = params.load(networks.ModelParams, raw)
    built = build_model(16, 1, 3, model_params)
    assert built.name == "tiny" and [type(layer).__name__ for layer in built.layers] == [
        "Rescaling",
        "Flatten",
        "Dense",
    ]
    prepared = prepare_source(make_dataset(tmp_path / "raw", per_class=4)).prepared
    split = splitting.split(prepared.labels, prepared.roles, CLASSES, 0.25, 0.25, seed=0)
    model = train_model(
        prepared,
        split,
        model_params,
        params.load(params.TrainParams, raw),
        params.load(params.AugmentParams, raw),
        tmp_path / "live",
    )
    assert model.name.removesuffix("_calibrated") == "tiny" and model.output_shape == (
        None,
        3,
    )  # maybe with a temperature
    assert (tmp_path / "live" / "metrics.json").exists()  # one epoch trained and logged
