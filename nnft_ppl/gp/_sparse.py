# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Sparse variational NNGP regression for large n: GPJax's collapsed bound (Titsias 2009,
`CollapsedVariationalGaussian`, the SGPR of GPflow) with the architecture's NNGP kernel and M
inducing inputs, fitted (scales, noise and inducing inputs) by optax L-BFGS on the ELBO.
Memory and time grow as n M and n M^2 instead of n^2 and n^3."""

from __future__ import annotations

import dataclasses
import math
import warnings

import equinox as eqx
import gpjax as gpx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError
from ..architectures import Architecture
from ._fit import FittedTargets, build_model


def neg_elbo(family: gpx.variational_families.CollapsedVariationalGaussian, data: gpx.Dataset):
    """Minus GPJax's collapsed ELBO (a lower bound on the log marginal likelihood)."""
    return -gpx.objectives.collapsed_elbo(family, data)


@eqx.filter_jit
def _fit_lbfgs_sparse(family, data, num_iters: int):
    with warnings.catch_warnings():  # GPJax 1.0 calls optax's deprecated tree_l2_norm; not ours to fix
        warnings.filterwarnings("ignore", message=".*tree_l2_norm is deprecated", category=DeprecationWarning)
        return gpx.fit_lbfgs(model=family, objective=neg_elbo, train_data=data, max_iters=num_iters, safe=False)


@jax.jit
def _condition_sparse(family, x, z):
    """The collapsed posterior (cached factors) and whether its factors and bound are finite."""
    post = family.condition(gpx.Dataset(X=x, y=z[:, None]))
    ok = (
        jnp.all(jnp.isfinite(jnp.diagonal(post.cholesky_kzz)))
        & jnp.all(jnp.isfinite(jnp.diagonal(post.cholesky_b)))
        & jnp.isfinite(post.elbo_bound)
    )
    return post, ok


@jax.jit
def _predict_sparse(post, xt):
    dist = post(xt, covariance="diagonal")
    return dist.mean.reshape(-1), dist.variance.reshape(-1)


def initial_inducing(x: np.ndarray, num_inducing: int) -> np.ndarray:
    """M starting inducing inputs: evenly spaced quantiles of x in d = 1, a fixed random
    subset of the data otherwise (seed 0)."""
    n = x.shape[0]
    m = min(num_inducing, n)
    if x.shape[1] == 1:
        return np.sort(x[:, 0])[np.round(np.linspace(0, n - 1, m)).astype(int)][:, None]
    return x[np.sort(np.random.default_rng(0).choice(n, size=m, replace=False))]


@dataclasses.dataclass
class SparseGPFit(FittedTargets):
    """A sparse variational NNGP regression: GPJax's `CollapsedVariationalGaussian` for the
    standardised targets z = (y - y_mean) / y_scale, its training data and the fit record.

    `elbo` (also `log_marginal_likelihood`, a lower bound on it), `noise` and `predict` are in
    the original units of y; the kernel's scales are in standardised units."""

    family: gpx.variational_families.CollapsedVariationalGaussian

    @property
    def model(self) -> gpx.ConjugateModel:
        return self.family.model

    @property
    def inducing_inputs(self) -> np.ndarray:
        return np.asarray(gpx.parameters.val(self.family.inducing_inputs))

    def posterior(self):
        if self._post is None:
            self._post, _ = _condition_sparse(self.family, jnp.asarray(self.x), jnp.asarray(self.z))
        return self._post

    @property
    def elbo(self) -> float:
        """The collapsed ELBO in the units of y: ELBO(z) - n log(y_scale)."""
        return float(self.posterior().elbo_bound) - self.y.shape[0] * math.log(self.y_scale)

    @property
    def log_marginal_likelihood(self) -> float:
        """The ELBO: a lower bound on log p(y) (the exact value needs the n x n factor)."""
        return self.elbo

    def predict(self, xt: Float[Array, "m d"], variance: bool = True) -> dict[str, np.ndarray]:
        """Mean and marginal variances of f and of a new y at `xt` under the variational posterior."""
        xt = jnp.asarray(V.points("xt", xt, self.x.shape[1]))
        mean, var = _predict_sparse(self.posterior(), xt)
        out = {"mean": self.y_mean + self.y_scale * np.asarray(mean)}
        if variance:
            var_f = self.y_scale**2 * np.maximum(np.asarray(var) - self.jitter, 0.0)
            out.update(var_f=var_f, var_y=var_f + self.noise**2)
        return out

    def loo(self):
        raise NNFTError("loo: exact leave-one-out needs the exact GP; this fit is sparse (fit_gp(method='exact'))")

    def elpd_loo(self):
        return self.loo()

    def summary(self) -> dict:
        return {
            **{k: round(v, 6) for k, v in self.kernel.values().items()},
            "noise": round(self.noise, 6),
            "elbo": round(self.elbo, 6),
            "num_inducing": int(self.inducing_inputs.shape[0]),
            "y_mean": self.y_mean,
            "y_scale": self.y_scale,
        }


def fit_sparse(
    arch: Architecture,
    x: np.ndarray,
    z: np.ndarray,
    *,
    noise: float,
    fit_noise: bool,
    trainable: tuple[str, ...] | None,
    num_inducing: int,
    num_iters: int,
    jitter: float,
) -> tuple[SparseGPFit, gpx.variational_families.CollapsedVariationalGaussian, bool]:
    """The sparse fit on standardised targets `z` (the caller records the transform), the
    starting family and whether the fit failed (initial scales kept), for the caller's checks."""
    num_inducing = V.integer("num_inducing", num_inducing)
    model = build_model(arch, noise, fit_noise=fit_noise, trainable=trainable, jitter=max(jitter, 1e-8))
    family = gpx.variational_families.CollapsedVariationalGaussian(
        model=model, inducing_inputs=jnp.asarray(initial_inducing(x, num_inducing))
    )
    xj, zj = jnp.asarray(x), jnp.asarray(z)
    post, ok = _condition_sparse(family, xj, zj)
    if not bool(ok):
        raise NNFTError("kernel (initial scales): the sparse GP's factors are not finite (check the scales and inputs)")
    family0, history, failed = family, np.zeros(0), False
    if num_iters > 0:
        data = gpx.Dataset(X=xj, y=zj[:, None])
        fitted, final = _fit_lbfgs_sparse(family, data, num_iters)
        history = np.atleast_1d(np.asarray(final))
        fitted_post, ok = _condition_sparse(fitted, xj, zj)
        failed = not (np.all(np.isfinite(history)) and bool(ok))
        if not failed:
            family, post = fitted, fitted_post
    return SparseGPFit(family, x=x, y=z, history=history, _post=post), family0, failed
