"""Training dynamics: neural tangent kernels (empirical and analytic), parametrisations
(standard, NTK, muP), ensembles trained at once, and the lazy (frozen-NTK) theory."""

from ._ntk import empirical_ntk, has_analytic_ntk, ntk_by_jacobian, ntk_fn, ntk_kernel
from ._param import PARAMETRIZATIONS, Parametrized

__all__ = [
    "PARAMETRIZATIONS",
    "Parametrized",
    "empirical_ntk",
    "has_analytic_ntk",
    "ntk_by_jacobian",
    "ntk_fn",
    "ntk_kernel",
]
