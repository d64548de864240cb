"""Universal approximation in action: the sup-norm error of trained single-hidden-layer tanh
networks phi(x) = c + sum_j a_j tanh(w_j x + b_j) on a 1-D target, against the width N.

For each width, `n_seeds` networks are trained at once (Adam, full-batch MSE on a dense grid,
`_train.fit`); the error is the sup norm of phi - f on a finer grid, taken as the best over
`n_checks` checkpoints of the run. `fit_rate` fits log(error) = log(A) + slope log(N) by least
squares over every (width, seed) pair and gives the slope's Student-t confidence interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats
import xarray as xr

from .._errors import NNFTError
from .._keys import as_key
from . import _train


def target_sine(x):
    """The default target f(x) = sin(2 pi x) + x / 2 on [-1, 1]."""
    return jnp.sin(2.0 * jnp.pi * x) + 0.5 * x


def mlp_init(width: int, key) -> dict:
    k1, k2, k3 = jax.random.split(as_key(key), 3)
    return {
        "w": 3.0 * jax.random.normal(k1, (width,), jnp.float64),
        "b": 3.0 * jax.random.normal(k2, (width,), jnp.float64),
        "a": jax.random.normal(k3, (width,), jnp.float64) / math.sqrt(width),
        "c": jnp.zeros((), jnp.float64),
    }


def mlp_apply(params: dict, x):
    """c + sum_j a_j tanh(w_j x + b_j) at x (P, 1)."""
    z = jnp.tanh(x[:, :1] * params["w"][None, :] + params["b"][None, :])
    return z @ params["a"] + params["c"]


def sup_errors(
    width: int,
    n_seeds: int = 4,
    key=0,
    target: Callable = target_sine,
    steps: int = 3000,
    n_checks: int = 6,
    learning_rate: float = 1e-2,
    n_train: int = 256,
) -> np.ndarray:
    """Best sup-norm error over `n_checks` checkpoints for `n_seeds` networks of one width: (n_seeds,)."""
    if not (isinstance(width, int) and width >= 1):
        raise NNFTError(f"width: must be a positive integer, got {width!r}")
    x = jnp.linspace(-1.0, 1.0, n_train)[:, None]
    x_test = jnp.linspace(-1.0, 1.0, 8 * n_train)[:, None]
    y, y_test = target(x[:, 0]), target(x_test[:, 0])
    params = jax.vmap(lambda k: mlp_init(width, k))(jax.random.split(as_key(key), n_seeds))
    opt = _train.make_optimizer("adam", learning_rate)

    def sup(p):
        return jnp.max(jnp.abs(mlp_apply(p, x_test) - y_test))

    _, _, checks = _train.fit(mlp_apply, params, x, y, opt, steps, metric=sup, n_checks=n_checks)
    return np.asarray(jnp.min(checks, axis=1))


class Rate(NamedTuple):
    """log(error) = log(amplitude) + slope log(N): the least-squares slope, its standard error and
    confidence interval (Student t, `level`), and the amplitude."""

    slope: float
    slope_se: float
    ci: tuple[float, float]
    amplitude: float


def fit_rate(widths, errors, level: float = 0.95) -> Rate:
    """Fit the rate over every (width, seed) error: `errors` of shape (len(widths), n_seeds)."""
    widths = np.asarray(widths, np.float64)
    errors = np.asarray(errors, np.float64)
    if errors.ndim != 2 or errors.shape[0] != widths.size or widths.size < 2:
        raise NNFTError(f"errors: expected shape ({widths.size}, n_seeds) for >= 2 widths, got {errors.shape}")
    lx = np.repeat(np.log(widths), errors.shape[1])
    ly = np.log(errors).ravel()
    design = np.stack([np.ones_like(lx), lx], axis=1)
    coef, *_ = np.linalg.lstsq(design, ly, rcond=None)
    resid = ly - design @ coef
    dof = ly.size - 2
    cov = np.linalg.inv(design.T @ design) * (resid @ resid) / dof
    se = float(np.sqrt(cov[1, 1]))
    t = scipy.stats.t.ppf(0.5 + level / 2, dof)
    return Rate(float(coef[1]), se, (float(coef[1] - t * se), float(coef[1] + t * se)), float(np.exp(coef[0])))


def uat_study(widths=(2, 4, 8, 16, 32), n_seeds: int = 4, key=0, **kwargs) -> xr.Dataset:
    """The sup-norm error against width: Dataset with `sup_error` (width, seed) and the fitted
    rate in attrs (`slope`, `slope_se`, `slope_ci`, `amplitude`)."""
    keys = jax.random.split(as_key(key), len(widths))
    errs = np.stack([sup_errors(int(w), n_seeds, k, **kwargs) for w, k in zip(widths, keys, strict=True)])
    rate = fit_rate(widths, errs)
    return xr.Dataset(
        {"sup_error": (("width", "seed"), errs)},
        coords={"width": list(widths), "seed": np.arange(n_seeds)},
        attrs={"slope": rate.slope, "slope_se": rate.slope_se, "slope_ci": list(rate.ci), "amplitude": rate.amplitude},
    )
