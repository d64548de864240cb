"""Streaming ensemble estimators: correlators with error bars for any architecture."""

from .._tensors import multiplicity, sorted_tuples
from ._basis import MonomialBasis
from ._estimate import Estimate, cumulants, moments, tensor_sum
from ._network import ensemble_correlators
from ._neuron import neuron_correlators
from ._stream import MomentSums, stream_moment_sums
from ._tilted import TiltedSums

__all__ = [
    "Estimate",
    "MomentSums",
    "MonomialBasis",
    "TiltedSums",
    "cumulants",
    "ensemble_correlators",
    "moments",
    "multiplicity",
    "sorted_tuples",
    "tensor_sum",
    "neuron_correlators",
    "stream_moment_sums",
]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
