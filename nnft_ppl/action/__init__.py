"""Actions from ensembles: the couplings of S[phi] inferred from an ensemble's connected correlators
(arXiv:2008.08601, arXiv:2307.03223): the local quartic coupling and its running with the cutoff,
six-point predictions, the quartic and sextic vertices by amputation, and the loop closed by sampling the
effective theory with `nnft_ppl.deform`'s NUTS, with jackknife errors propagated through every step."""

from ._amputate import Locality, Vertex, amputate, amputate6, locality, tree_from_g4c
from ._correlators import Correlators, exact_correlators, from_sums, jackknife_cov, measure
from ._engineer import Engineered, engineer
from ._field import gaussian_field
from ._integrals import check_cutoff, cutoff_quadrature, gaussian_vertex_integral, vertex_integrals
from ._local import LocalCoupling, Running, expected_exponent, kernel_growth, local_coupling, running_coupling
from ._loop import Closure, Compared, close_loop, tree_six
from ._sampled import SampledClosure, SampledTheory, close_loop_sampled, effective_model, sample_effective
from ._sixpoint import SixPoint, six_point_prediction

__all__ = [
    "SampledClosure",
    "SampledTheory",
    "close_loop_sampled",
    "effective_model",
    "gaussian_field",
    "sample_effective",
    "Locality",
    "Vertex",
    "amputate",
    "amputate6",
    "tree_from_g4c",
    "locality",
    "Closure",
    "Compared",
    "Correlators",
    "close_loop",
    "tree_six",
    "Engineered",
    "LocalCoupling",
    "Running",
    "SixPoint",
    "check_cutoff",
    "cutoff_quadrature",
    "engineer",
    "exact_correlators",
    "expected_exponent",
    "from_sums",
    "gaussian_vertex_integral",
    "jackknife_cov",
    "kernel_growth",
    "local_coupling",
    "measure",
    "running_coupling",
    "six_point_prediction",
    "vertex_integrals",
]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
