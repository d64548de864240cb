"""nnft_ppl: neural-network field theory as a probabilistic-programming model zoo.

Importing the package enables float64 in JAX (accumulation and tests are float64;
fast paths ask for float32 explicitly).
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

from . import architectures as _architectures  # noqa: E402
from ._errors import NNFTError, NNFTNumericalError  # noqa: E402
from ._keys import as_dtype, as_key  # noqa: E402
from ._tails import khat_flag  # noqa: E402
from .architectures import (  # noqa: E402
    REGISTRY,
    Architecture,
    ExactCumulants,
    IIDNeuronArchitecture,
    LeadingOrderCumulants,
    LinearReadout,
    VectorOutput,
    make_architecture,
)

# every zoo architecture by its class name (derived from the registry: one file, no list to edit)
globals().update({_n: getattr(_architectures, _n) for _n in _architectures.ZOO_NAMES})

__version__ = "0.1.0"

__all__ = [  # noqa: PLE0604  (the zoo's class names are derived from the registry)
    "NNFTError",
    "NNFTNumericalError",
    "REGISTRY",
    "Architecture",
    "ExactCumulants",
    "IIDNeuronArchitecture",
    "LeadingOrderCumulants",
    "LinearReadout",
    "VectorOutput",
    "as_dtype",
    "as_key",
    "khat_flag",
    "make_architecture",
    *_architectures.ZOO_NAMES,
]
