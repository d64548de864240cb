"""Training dynamics: neural tangent kernels (empirical and analytic), parametrisations
(standard, NTK, muP), ensembles trained at once, the lazy (frozen-NTK) theory, and feature
learning in G4c_t against the lazy evolution of the same networks."""

from ._feature import exact_initial_g4c, g4c_departure, linearized_fields
from ._fit import train_ensemble
from ._lazy import frozen_ntk_dynamics, lazy_prediction
from ._ntk import empirical_ntk, has_analytic_ntk, ntk_by_jacobian, ntk_fn, ntk_kernel
from ._param import PARAMETRIZATIONS, Parametrized
from ._plots import plot_drift, plot_g_t
from ._record import correlators, field_moment_sums, ntk_summary
from ._train import OPTIMIZERS, Record, Trainer, TrainState, ensemble_trainer, run

__all__ = [
    "OPTIMIZERS",
    "PARAMETRIZATIONS",
    "Parametrized",
    "Record",
    "TrainState",
    "Trainer",
    "correlators",
    "empirical_ntk",
    "ensemble_trainer",
    "exact_initial_g4c",
    "field_moment_sums",
    "frozen_ntk_dynamics",
    "g4c_departure",
    "has_analytic_ntk",
    "lazy_prediction",
    "linearized_fields",
    "ntk_by_jacobian",
    "ntk_fn",
    "ntk_kernel",
    "ntk_summary",
    "plot_drift",
    "plot_g_t",
    "run",
    "train_ensemble",
]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
