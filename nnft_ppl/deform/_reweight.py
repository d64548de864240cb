"""The naive baseline: importance reweighting of prior draws by exp(-S_int)."""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _validate as V
from .._keys import no_extra_arguments, rng_key_arg
from ._model import Deformed

Points = Float[Array, "P d"]


class Reweighted(NamedTuple):
    """Prior draws of phi at x (M, P), their normalised weights (M,), the Kish ESS
    (sum w)^2 / sum w^2, and wall time including compilation."""

    phi: np.ndarray
    weights: np.ndarray
    kish_ess: float
    elapsed_s: float

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Self-normalised importance estimate of E_lam[values] (values of shape (M, ...))."""
        return np.tensordot(self.weights, values, axes=1)


def reweight_prior(
    model: Deformed, x: Points, rng_key: int | PRNGKeyArray | None = None, num_draws: int = 10_000, **deprecated
) -> Reweighted:
    """Draw `num_draws` networks from the prior and weight them by exp(-S_int); `rng_key` an int
    seed or a JAX key (`key=` is its deprecated former name)."""
    key = rng_key_arg(rng_key, deprecated, "reweight_prior")
    no_extra_arguments(deprecated, "reweight_prior")
    x = model.arch.check_points(x)
    num_draws = V.integer("num_draws", num_draws)
    p = x.shape[0]
    pts = jnp.concatenate([jnp.asarray(x), jnp.asarray(model.quad.points)])

    @jax.jit
    def run(k):
        f = model.arch.sample_fields(jax.random.split(k, num_draws), pts)
        logw = -model.action(f[:, p:])
        return f[:, :p], logw

    t0 = time.perf_counter()
    phi, logw = jax.block_until_ready(run(key))
    elapsed = time.perf_counter() - t0
    logw = np.asarray(logw)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return Reweighted(np.asarray(phi), w, float(1.0 / np.sum(w**2)), elapsed)
