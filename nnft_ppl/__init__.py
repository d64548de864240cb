"""nnft_ppl: neural-network field theory as a probabilistic-programming model zoo.

Importing the package changes no global JAX setting: the public entry points that accumulate
or compare in float64 scope 64-bit types to their own call (`nnft_ppl._x64.float64`), fast
paths ask for float32 explicitly, and an architecture's `prior` draws in JAX's default float.
"""

from __future__ import annotations

from . import architectures as _architectures
from ._errors import NNFTError, NNFTNumericalError
from ._keys import as_dtype, as_key
from ._tails import khat_flag
from .architectures import (
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
