"""Expressivity: universal approximation in action and trainable Kolmogorov-Arnold networks.

- `train_kan`, `kan_apply`, `kan_init`, `plot_edges`, `KANSpec`: KAN layer stacks with learnable
  B-spline edge functions (arXiv:2404.19756), trained M at a time with optax.
- `uat_study`, `sup_errors`, `fit_rate`: the sup-norm error of trained single-layer networks
  against width, with the fitted log-log rate.
- `TrainState`, `init`, `step`, `fit`: the pure optax training loop they share.
"""

from ._kan import KANSpec, edge_functions, kan_apply, kan_init, plot_edges, rmse, train_kan
from ._train import TrainState, fit, init, make_optimizer, mse_loss, step
from ._uat import Rate, fit_rate, mlp_apply, mlp_init, sup_errors, target_sine, uat_study

__all__ = [
    "KANSpec",
    "Rate",
    "TrainState",
    "edge_functions",
    "fit",
    "fit_rate",
    "init",
    "kan_apply",
    "kan_init",
    "make_optimizer",
    "mlp_apply",
    "mlp_init",
    "mse_loss",
    "plot_edges",
    "rmse",
    "step",
    "sup_errors",
    "target_sine",
    "train_kan",
    "uat_study",
]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
