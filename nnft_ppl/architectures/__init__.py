"""The architecture zoo: one file per architecture, all registered here."""

from __future__ import annotations

import dataclasses

from .._errors import NNFTError
from ._activations import ACTIVATIONS, Activation, get_activation
from ._base import Architecture, IIDNeuronArchitecture
from ._single_layer_base import AbstractSingleLayer
from .cosnet import CosNet
from .deep_mlp import DeepMLP
from .erfnet import ErfNet
from .gaussnet import GaussNet
from .linear_features import LinearFeatures
from .relunet import ReLUNet
from .single_layer import SingleLayer

#: every concrete architecture by name; adding one touches its file, this line and its card.
REGISTRY: dict[str, type[Architecture]] = {
    c.__name__: c for c in (GaussNet, ErfNet, ReLUNet, CosNet, SingleLayer, DeepMLP, LinearFeatures)
}


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


__all__ = [
    "ACTIVATIONS",
    "AbstractSingleLayer",
    "Activation",
    "Architecture",
    "CosNet",
    "DeepMLP",
    "ErfNet",
    "GaussNet",
    "IIDNeuronArchitecture",
    "LinearFeatures",
    "REGISTRY",
    "ReLUNet",
    "SingleLayer",
    "get_activation",
    "make_architecture",
]
