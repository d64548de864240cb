"""nnft_ppl: neural-network field theory as a probabilistic-programming model zoo.

Importing the package enables float64 in JAX (accumulation and tests are float64;
fast paths ask for float32 explicitly).
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

from ._errors import NNFTError  # noqa: E402
from .architectures import (  # noqa: E402
    REGISTRY,
    Architecture,
    CosNet,
    DeepMLP,
    ErfNet,
    GaussNet,
    IIDNeuronArchitecture,
    LinearFeatures,
    ReLUNet,
    SingleLayer,
    make_architecture,
)

__version__ = "0.1.0"

__all__ = [
    "NNFTError",
    "REGISTRY",
    "Architecture",
    "CosNet",
    "DeepMLP",
    "ErfNet",
    "GaussNet",
    "IIDNeuronArchitecture",
    "LinearFeatures",
    "ReLUNet",
    "SingleLayer",
    "make_architecture",
]
