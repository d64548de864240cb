# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""The lazy (frozen-NTK) regime in closed form (Lee et al. 2019, arXiv:1902.06720, eq. 16).

At infinite width in the NTK parametrisation, gradient flow on L = (1/2) sum_i (phi(X_i) - Y_i)^2
linearises the network: phi_t(x) = phi_0(x) - T_t(x) (phi_0(X) - Y), with
T_t(x) = Theta_xX Theta_XX^-1 (I - exp(-Theta_XX t)) and phi_0 the NNGP with kernel K. The
trained ensemble is Gaussian at every t with

    mean  mu_t(x)    = T_t(x) Y
    cov   S_t(x, x') = K_xx' - T_t(x) K_Xx' - T_t(x') K_Xx + T_t(x) K_XX T_t(x')^T;

t -> infinity gives kernel regression with the NTK (seed eq. 2.51). Time is t = learning rate x
steps; with `learning_rate`, the discrete gradient-descent solution (I - eta Theta)^(t / eta)
replaces the exponential (exact for the linearised network at finite step size).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError
from .._x64 import float64
from ._ntk import ntk_kernel


def _gain(lam: np.ndarray, t: float, learning_rate: float | None) -> np.ndarray:
    """(1 - g(lam, t)) / lam with g = exp(-lam t) (or (1 - eta lam)^(t/eta)); t at lam -> 0."""
    lam = np.maximum(lam, 0.0)
    if np.isinf(t):
        return np.where(lam > 0, 1.0 / np.where(lam > 0, lam, 1.0), 0.0)
    if learning_rate is None:
        small = lam * t < 1e-12
        return np.where(small, t, -np.expm1(-lam * t) / np.where(lam > 0, lam, 1.0))
    steps = t / learning_rate
    g = (1.0 - learning_rate * lam) ** steps
    return np.where(lam > 0, (1.0 - g) / np.where(lam > 0, lam, 1.0), t)


@float64
def frozen_ntk_dynamics(
    k_xx: Float[Array, "P P"],
    k_xX: Float[Array, "P n"],
    k_XX: Float[Array, "n n"],
    ntk_xX: Float[Array, "P n"],
    ntk_XX: Float[Array, "n n"],
    y: Float[Array, " n"],
    times,
    learning_rate: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean (T, P) and covariance (T, P, P) of the lazy-regime ensemble at each time, from the NNGP
    kernel K and NTK Theta blocks between test points x and training points X (module docstring)."""
    times = np.atleast_1d(np.asarray(times, np.float64))
    if times.ndim != 1 or np.any(~(times >= 0)):
        raise NNFTError(f"times: must be non-negative, got {times}")
    if learning_rate is not None:
        V.positive("learning_rate", learning_rate)
    k_xx, k_xX, k_XX, t_xX, t_XX, y = (np.asarray(a, np.float64) for a in (k_xx, k_xX, k_XX, ntk_xX, ntk_XX, y))
    if y.shape != (t_XX.shape[0],):
        raise NNFTError(f"y: shape {y.shape} does not match {t_XX.shape[0]} training points")
    lam, vec = np.linalg.eigh(0.5 * (t_XX + t_XX.T))
    means, covs = [], []
    for t in times:
        tt = t_xX @ (vec * _gain(lam, float(t), learning_rate)) @ vec.T  # (P, n)
        means.append(tt @ y)
        cross = tt @ k_xX.T
        covs.append(k_xx - cross - cross.T + tt @ k_XX @ tt.T)
    return np.stack(means), np.stack(covs)


@float64
def lazy_prediction(
    arch, x_train, y_train, x, times, learning_rate: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The lazy-regime (infinite-width, NTK parametrisation) ensemble of `arch` trained by gradient
    flow on (x_train, y_train): mean (T, P) and covariance (T, P, P) at points x and each time."""
    xt, x = arch.points(x_train, "x_train"), arch.points(x, "x")
    y = np.asarray(y_train, np.float64)
    if y.ndim != 1 or y.shape[0] != xt.shape[0]:
        raise NNFTError(f"y_train: shape {y.shape} does not match x_train's {xt.shape[0]} points")
    p = x.shape[0]
    z = jnp.asarray(np.concatenate([np.asarray(x), np.asarray(xt)]), jnp.float64)
    k, th = (np.asarray(a) for a in _kernels(arch, z))  # both kernels on all points in one compiled call
    return frozen_ntk_dynamics(k[:p, :p], k[:p, p:], k[p:, p:], th[:p, p:], th[p:, p:], y, times, learning_rate)


@eqx.filter_jit  # eagerly, the kernels' closed forms ran op by op (dozens of small compiles)
def _kernels(arch, z):
    return arch.nngp_kernel(z, z), ntk_kernel(arch, z, z)
