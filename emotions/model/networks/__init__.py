"""The networks, one module each, found by name: ``model.architecture: vgg`` builds ``vgg.py``.

A network module holds a frozen ``Params`` class read from its own section (``model.<name>``), a pure
``build(image_size, num_classes, params)``, ``ANY_SIZE`` (whether ``build`` takes ``image_size`` None:
one set of weights for any image size, as ``train.low_res_size`` needs) and ``smallest_size(params)``.
Adding a network is adding its module and its params section; nothing else names it. No module
imports TensorFlow until ``build`` runs, so params are checked before TensorFlow loads.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from emotions.params import _Section

if TYPE_CHECKING:
    import keras


class Network(Protocol):
    """What a network module provides (a module satisfies it by its top-level names)."""

    ANY_SIZE: bool

    @property
    def Params(self) -> Any: ...  # noqa: N802 (a class, read by its ``read(section)`` classmethod)

    def build(self, image_size: int | None, num_classes: int, params: Any) -> keras.Model: ...

    def smallest_size(self, params: Any) -> tuple[int, str]: ...


def _discover() -> dict[str, Network]:
    """Every module of this package, by its name (sorted, so messages list them in a stable order)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
    return {name: cast(Network, importlib.import_module(f"{__name__}.{name}")) for name in names}


NETWORKS = _discover()


@dataclass(frozen=True)
class ModelParams:
    SECTION: ClassVar[str] = "model"
    architecture: str  # the network built: a module of this package
    network: Any  # its own params (its module's ``Params``), from model.<architecture>
    tta_flip: bool  # the saved model averages each face with its mirror image
    tta_shift: int  # the saved model also averages over copies moved this many pixels each way; 0: none

    @classmethod
    def read(cls, s: _Section) -> ModelParams:
        architecture = s.choice("architecture", tuple(NETWORKS))
        # every network's section is checked, so a typo in one not chosen today is caught too
        sections = {name: s.nested(name, network.Params.read) for name, network in NETWORKS.items()}
        return cls(
            architecture=architecture,
            network=sections[architecture],
            tta_flip=s.boolean("tta_flip"),
            tta_shift=s.integer("tta_shift", minimum=0),
        )

    @property
    def chosen(self) -> Network:
        return NETWORKS[self.architecture]


def build_model(image_size: int | None, num_classes: int, p: ModelParams) -> keras.Model:
    """The chosen network (``model.architecture``); its softmax is computed in float32 even when
    training in bfloat16. ``image_size`` None (networks with ``ANY_SIZE`` only) accepts any size."""
    return p.chosen.build(image_size, num_classes, p.network)
