"""The architecture zoo: one file per architecture, each a final `Architecture` subclass.

Every public module of this package is imported here, and every final class defined
in it registers itself in `REGISTRY` and is exported by name: adding an architecture is
adding its file (and its card in `models/`), nothing else.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

from .._errors import NNFTError
from ._activations import ACTIVATIONS, Activation, get_activation
from ._base import (
    Architecture,
    ExactCumulants,
    IIDNeuronArchitecture,
    LinearReadout,
    as_scale,
    default_float,
    scale_names,
)
from ._four_point import LeadingOrderCumulants
from ._registry import REGISTRY
from ._single_layer_base import AbstractSingleLayer
from ._vector import VectorOutput

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
globals().update({_name: _cls for _name, _cls in REGISTRY.items() if _cls.__module__.startswith(__name__ + ".")})


def make_architecture(name: str, **params) -> Architecture:
    """Build a registered architecture by name; unknown names and parameters are clear errors."""
    if name not in REGISTRY:
        raise NNFTError(f"architecture: unknown architecture {name!r}; known: {sorted(REGISTRY)}")
    cls = REGISTRY[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(params) - fields
    if unknown:
        raise NNFTError(f"{name}: unknown parameter(s) {sorted(unknown)}; known: {sorted(fields)}")
    return cls(**params)


#: the zoo's own architectures (those defined in this package), exported by name
ZOO_NAMES = tuple(n for n, c in REGISTRY.items() if c.__module__.startswith(__name__ + "."))

__all__ = [  # noqa: PLE0604  (the zoo's class names are derived from the registry)
    "ACTIVATIONS",
    "AbstractSingleLayer",
    "Activation",
    "Architecture",
    "ExactCumulants",
    "IIDNeuronArchitecture",
    "LeadingOrderCumulants",
    "LinearReadout",
    "REGISTRY",
    "VectorOutput",
    "get_activation",
    "make_architecture",
    "as_scale",
    "default_float",
    "scale_names",
    *ZOO_NAMES,
]
