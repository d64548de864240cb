"""LinearFeatures: phi(x) = sum_i w_i f_i(x) with fixed features f_i (the seed's eq. 2.27)."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro

from .. import _validate as V
from .._errors import NNFTError
from ._base import ExactCumulants, normal, uniform

#: standardised weight laws: (distribution of unit variance, its cumulants kappa_n, n = 1..6)
WEIGHT_LAWS = {
    "normal": (lambda dt: normal(dt, 1.0), (0.0, 1.0, 0.0, 0.0, 0.0, 0.0)),
    "uniform": (lambda dt: uniform(dt, -math.sqrt(3.0), math.sqrt(3.0)), (0.0, 1.0, 0.0, -1.2, 0.0, 48.0 / 7.0)),
}


class LinearFeatures(ExactCumulants):
    """phi(x) = sum_{i<N} w_i f_i(x), w_i i.i.d. with variance sigma^2 / N.

    With `features=None` the f_i are frozen random Fourier features
    sqrt(2) cos(k_i . x / lengthscale + c_i), drawn once from `feature_seed`. The law of
    w is 'normal' (a free theory: all connected n > 2 functions vanish) or 'uniform'
    (non-Gaussian: kappa_4(w) = -6/5 in units of sigma^4 / N^2). Everything is exact at
    finite N: K = sigma^2/N sum_i f_i f_i, kappa_n(phi) = kappa_n(w) sum_i prod_j f_i(x_j).
    """

    width: int = 100
    d: int = 1
    sigma: float = 1.0
    lengthscale: float = 1.0
    weights: str = eqx.field(default="uniform", static=True)
    feature_seed: int = 0
    features: Callable | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        V.field_integer("width", self.width)
        V.field_integer("d", self.d)
        V.positive("sigma", self.sigma)
        V.positive("lengthscale", self.lengthscale)
        if self.weights not in ("normal", "uniform"):
            raise NNFTError(f"weights: must be 'normal' or 'uniform', got {self.weights!r}")

    def feature_map(self, x):
        """f_i(x_p) as an (N, P) array."""
        x = jnp.asarray(x)
        if self.features is not None:
            f = jnp.asarray(self.features(x))
            if f.shape != (self.width, x.shape[0]):
                raise NNFTError(f"features: must return shape (width, P) = {(self.width, x.shape[0])}, got {f.shape}")
            return f
        k1, k2 = jax.random.split(jax.random.key(self.feature_seed))
        k = jax.random.normal(k1, (self.width, self.d), x.dtype)
        c = jax.random.uniform(k2, (self.width,), x.dtype, -math.pi, math.pi)
        return math.sqrt(2.0) * jnp.cos(k @ x.T / self.lengthscale + c[:, None])

    def model(self, x, dtype):
        law, _ = WEIGHT_LAWS[self.weights]
        with numpyro.plate("features", self.width):
            xi = numpyro.sample("xi", law(dtype))
        if x is None:
            return None
        return numpyro.deterministic("phi", self.forward({"xi": xi}, jnp.asarray(x, dtype)))

    def forward(self, theta, x):
        w = theta["xi"] * (self.sigma / math.sqrt(self.width))
        return jnp.einsum("n,np->p", w, self.feature_map(x), precision=jax.lax.Precision.HIGHEST)

    def kernel(self, x1, x2):
        f1, f2 = self.feature_map(x1), self.feature_map(x2)
        return self.sigma**2 / self.width * jnp.einsum("np,nq->pq", f1, f2, precision=jax.lax.Precision.HIGHEST)

    def weight_cumulant(self, n: int) -> float:
        """kappa_n of one weight w_i = sigma xi / sqrt(N)."""
        return WEIGHT_LAWS[self.weights][1][n - 1] * (self.sigma / math.sqrt(self.width)) ** n

    def exact_connected_values(self, x, tuples, width=None):
        """kappa_r(phi) = kappa_r(w) sum_i prod_j f_i(x_j), exact (zero error)."""
        if width is not None and width != self.width:
            raise NNFTError("width: LinearFeatures has a fixed feature set; build it at the width you want")
        f = np.asarray(self.feature_map(x))  # (N, P)
        kw = self.weight_cumulant(len(tuples[0]))
        vals = np.asarray([kw * np.sum(np.prod(f[:, list(t)], axis=1)) for t in tuples])
        return vals, np.zeros_like(vals)
