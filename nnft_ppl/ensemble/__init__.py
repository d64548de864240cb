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
