"""Infinite-width networks as Gaussian processes (GPJax) and finite-width Bayesian
networks (NumPyro NUTS), side by side.

- `NNGPKernel`: any zoo architecture's `nngp_kernel` as a GPJax kernel with trainable prior scales.
- `NTKKernel`: the analytic infinite-width NTK (`nnft_ppl.dynamics.ntk_kernel`) the same way.
- `fit_gp` / `GPFit`: marginal-likelihood fitting on standardised targets, predictions, exact
  leave-one-out; `SparseGPFit`: the sparse variational GP for n beyond memory.
- `run_nuts`: the width-N network posterior as an ArviZ DataTree with diagnostics (readout
  integrated out by default: `collapsed_regression`, `readout_draws`).
- `compare_widths` / `plot_comparison`: predictive bands, ELPD and a W2 distance by width.
- `predictive_study`: the NUTS network, the NNGP posterior, the NTK-GP (`ntk_gp_predictive`) and deep
  ensembles (`ensemble_predictive`) side by side: W2 between each pair with errors (`w2_between`),
  held-out ELPD (`heldout_elpd`), each distance to its infinite-width limit against width.
"""

from __future__ import annotations

from ._bnn import BNNWarning, bnn_regression, diagnostics, predictive_moments, run_nuts
from ._collapsed import collapsed_regression, collapsible, readout_draws
from ._compare import (
    Comparison,
    W2Estimate,
    compare_widths,
    plot_comparison,
    psis_loo,
    w2_estimate,
    w2_gaussian,
    w2_of_tree,
    w2_to_gp,
)
from ._data import RegressionData, check_xy, diabetes_bmi, input_grid, load_dataset, standardise, synthetic
from ._fit import GPFit, GPWarning, build_model, exact_loo, safe_jitter
from ._kernels import NNGPKernel, NTKKernel, arch_from_kernel, relu_as_arccosine, scale_fields
from ._optimise import available_memory, exact_gp_bytes, fit_gp, max_exact_n
from ._predictive import (
    Predictive,
    bnn_predictive,
    elpd_difference,
    ensemble_predictive,
    heldout_elpd,
    nngp_predictive,
    ntk_gp_predictive,
    ntk_learning_rate,
    w2_between,
)
from ._predictive_report import plot_distances, plot_predictives, study_tree
from ._predictive_study import (
    PredictiveStudy,
    distance_scaling,
    heldout_table,
    pair_distances,
    predictive_study,
    split_heldout,
)
from ._sparse import SparseGPFit

__all__ = [
    "BNNWarning",
    "Comparison",
    "GPFit",
    "GPWarning",
    "NNGPKernel",
    "NTKKernel",
    "RegressionData",
    "SparseGPFit",
    "arch_from_kernel",
    "available_memory",
    "bnn_regression",
    "build_model",
    "collapsed_regression",
    "collapsible",
    "check_xy",
    "compare_widths",
    "diabetes_bmi",
    "diagnostics",
    "exact_gp_bytes",
    "exact_loo",
    "fit_gp",
    "input_grid",
    "load_dataset",
    "max_exact_n",
    "plot_comparison",
    "predictive_moments",
    "psis_loo",
    "readout_draws",
    "relu_as_arccosine",
    "run_nuts",
    "safe_jitter",
    "scale_fields",
    "standardise",
    "synthetic",
    "w2_gaussian",
    "W2Estimate",
    "w2_estimate",
    "w2_of_tree",
    "w2_to_gp",
    "Predictive",
    "PredictiveStudy",
    "bnn_predictive",
    "distance_scaling",
    "elpd_difference",
    "ensemble_predictive",
    "heldout_elpd",
    "heldout_table",
    "nngp_predictive",
    "ntk_gp_predictive",
    "ntk_learning_rate",
    "pair_distances",
    "plot_distances",
    "plot_predictives",
    "predictive_study",
    "split_heldout",
    "study_tree",
    "w2_between",
]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
