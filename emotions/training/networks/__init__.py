"""The networks, one module each, found by name: ``model.architecture: vgg`` builds ``vgg.py``.

A network module holds a frozen ``Params`` class read from its own section (``model.<name>``), a
pure ``build(image_size, channels, num_classes, params)``, ``ANY_SIZE`` (whether ``build`` takes
``image_size`` None: one set of weights for any image size, as ``train.low_res_size`` needs) and
``smallest_size(params)``. Adding a network is adding its module and its params section; nothing
else names it. No module imports TensorFlow until ``build`` runs, so params are checked before
TensorFlow loads.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from emotions.params import Invalid, Rule, Section, _Section, boolean, integer, param

if TYPE_CHECKING:
    import keras


class Network(Protocol):
    """What a network module provides (a module satisfies it by its top-level names)."""

    ANY_SIZE: bool

    @property
    def Params(self) -> Any: ...  # noqa: N802 (a class, read by its ``read(section)`` classmethod)

    def build(
        self, image_size: int | None, channels: int, num_classes: int, params: Any
    ) -> keras.Model: ...

    def smallest_size(self, params: Any) -> tuple[int, str]: ...


def _discover() -> dict[str, Network]:
    """Every module of this package, by its name (sorted, so messages list them in a stable
    order)."""
    names = sorted(
        info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )
    return {name: cast(Network, importlib.import_module(f"{__name__}.{name}")) for name in names}


NETWORKS = _discover()


def _architecture() -> Rule:
    """The name of a network module, looked up when read: a module added later counts too."""

    def convert(value: object) -> str:
        if value not in NETWORKS:
            raise Invalid(f"must be one of {', '.join(NETWORKS)}, got {value!r}")
        return str(value)

    return Rule(
        "the name of a module of emotions/training/networks: " + ", ".join(NETWORKS), convert
    )


def _every_network() -> Any:
    """The field of the chosen network's params: in params.yaml, a section for every network."""
    return dataclasses.field(metadata={"networks": NETWORKS})


@dataclass(frozen=True)
class ModelParams(Section):
    """The network built and what the saved model wraps around it; each network's own params sit
    in a section of its name (``model.vgg``), all of them checked."""

    SECTION: ClassVar[str] = "model"
    architecture: str = param(
        "reference",
        _architecture(),
        "the network: a module of emotions/training/networks, its params in its section",
    )
    # the chosen network's own params (its module's ``Params``), read from model.<architecture>
    network: Any = _every_network()
    tta_flip: bool = param(
        False, boolean(), "the saved model averages each face with its mirror image"
    )
    tta_shift: int = param(
        0,
        integer(minimum=0),
        "the saved model also averages copies moved this many pixels each way; 0: none",
    )
    tta_crops: bool = param(
        False,
        boolean(),
        "with augment.crop, the saved model averages ten crops: the four corners and the centre, "
        "each also mirrored",
    )

    @classmethod
    def read(cls, s: _Section) -> ModelParams:
        values = {
            f.name: s.value(f.name, f.metadata["rule"])
            for f in dataclasses.fields(cls)
            if "rule" in f.metadata
        }
        # every network's section is checked, so a typo in one not chosen today is caught too
        sections = {name: s.nested(name, network.Params.read) for name, network in NETWORKS.items()}
        return cls(network=sections[values["architecture"]], **values)

    @property
    def chosen(self) -> Network:
        return NETWORKS[self.architecture]


def build_model(
    image_size: int | None, channels: int, num_classes: int, p: ModelParams
) -> keras.Model:
    """The chosen network (``model.architecture``); its softmax is computed in float32 even when
    training in bfloat16. ``image_size`` None (networks with ``ANY_SIZE`` only) accepts any size."""
    return p.chosen.build(image_size, channels, num_classes, p.network)
