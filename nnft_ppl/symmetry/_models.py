"""Small models the symmetry diagnostics need beyond the scalar zoo, and their declared base.

- `FieldSampler`: the abstract base of field ensembles that are not `Architecture`s (no NumPyro
  prior, just exact draws of phi at points); the symmetry code accepts either.
- `VectorGaussNet`: GaussNet with D outputs (`architectures.VectorOutput`), phi_a(x) = b1_a +
  sum_i W1_ai h_i(x), W1 ~ N(mu, sw^2/N): internal SO(D) invariant for mu = 0, broken by mu != 0.
- `FreeCosNet`: CosNet with Cauchy frequencies, kernel (sa^2/2) exp(-m |x - y|): in d = 1 the
  free-field propagator, reflection positive (the zoo CosNet's Gaussian kernel is not).
- `kernel_sampler`: Gaussian fields with a given kernel (the infinite-width limit).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _validate as V
from ..architectures import GaussNet, VectorOutput


class FieldSampler(eqx.Module):
    """An ensemble of fields phi: R^d -> R^D (D = `n_out`) drawn exactly, one network per key.

    Subclasses provide `d`, `sample_fields(keys, x)` (shape (M, P) or (M, P, D)) and
    `nngp_kernel(x1, x2)` (the per-output infinite-width two-point function). The symmetry
    diagnostics accept a `FieldSampler` wherever they accept an `Architecture`.
    """

    d: eqx.AbstractVar[int]

    @abc.abstractmethod
    def sample_fields(self, keys: PRNGKeyArray, x: Float[Array, "P d"], dtype=jnp.float64) -> Float[Array, "M P ..."]:
        """phi at x for one network per key."""

    @abc.abstractmethod
    def nngp_kernel(self, x1: Float[Array, "P1 d"], x2: Float[Array, "P2 d"]) -> Float[Array, "P1 P2"]:
        """The per-output infinite-width two-point function."""

    @property
    def name(self) -> str:
        return type(self).__name__

    def check_points(self, x, name: str = "x") -> np.ndarray:
        """Validate points against the input dimension `d`."""
        return V.points(name, x, self.d)


class VectorGaussNet(FieldSampler):
    """GaussNet with `n_out` = D outputs and a last-layer mean `mu` (mu = 0: SO(D) invariant)."""

    width: int = eqx.field(static=True, default=50)
    d: int = eqx.field(static=True, default=1)
    n_out: int = eqx.field(static=True, default=2)
    sw: float = 1.0
    sb: float = 1.0
    mu: float = 0.0

    def __check_init__(self):
        V.integer("width", self.width)
        V.integer("d", self.d)
        V.integer("n_out", self.n_out)
        V.positive("sw", self.sw)
        V.positive("sb", self.sb)
        float(self.mu)

    @property
    def vector(self) -> VectorOutput:
        """The zoo's generic D-output mechanism: `n_out` readouts of one GaussNet hidden layer."""
        return VectorOutput(GaussNet(width=self.width, d=self.d, sw=self.sw, sb=self.sb), self.n_out, self.mu)

    def apply(self, key: PRNGKeyArray, x: Float[Array, "P d"]) -> Float[Array, "P D"]:
        """One network (drawn from `key`) at points x."""
        return self.vector.sample_fields(key[None], x, x.dtype)[0]

    def sample_fields(self, keys: PRNGKeyArray, x: Float[Array, "P d"], dtype=jnp.float64) -> Float[Array, "M P D"]:
        """phi at x for one network per key (`VectorOutput.sample_fields`)."""
        return self.vector.sample_fields(keys, jnp.asarray(x, dtype), dtype)

    def nngp_kernel(self, x1: Float[Array, "P1 d"], x2: Float[Array, "P2 d"]) -> Float[Array, "P1 P2"]:
        """Per-output covariance at mu = 0: sb^2 + sw^2 exp(-sw^2 |x - y|^2 / (2d)) (times delta_ab)."""
        r2 = jnp.sum((x1[:, None] - x2[None]) ** 2, -1)
        return self.sb**2 + self.sw**2 * jnp.exp(-(self.sw**2) * r2 / (2 * self.d))


class FreeCosNet(FieldSampler):
    """phi = sum_i a_i cos(w_i . x + b_i), w_i multivariate Cauchy(m), a ~ N(0, sa^2/N), b ~ U[-pi, pi]."""

    width: int = 100
    d: int = 1
    m: float = 1.0
    sa: float = 1.0

    def sample_fields(self, keys: PRNGKeyArray, x: Float[Array, "P d"], dtype=jnp.float64) -> Float[Array, "M P"]:
        x = jnp.asarray(x, dtype)

        def one(k):
            k1, k2, k3, k4 = jax.random.split(k, 4)
            g = jax.random.normal(k1, (self.width, self.d), dtype)
            chi = jnp.abs(jax.random.normal(k2, (self.width, 1), dtype))  # Cauchy = normal / |normal|
            w = self.m * g / chi
            b = jax.random.uniform(k3, (self.width,), dtype, -math.pi, math.pi)
            a = jax.random.normal(k4, (self.width,), dtype) * self.sa / math.sqrt(self.width)
            return a @ jnp.cos(w @ x.T + b[:, None])

        return jax.vmap(one)(keys)

    def nngp_kernel(self, x1: Float[Array, "P1 d"], x2: Float[Array, "P2 d"]) -> Float[Array, "P1 P2"]:
        """(sa^2 / 2) exp(-m |x - y|)."""
        r = jnp.sqrt(jnp.sum((jnp.asarray(x1)[:, None] - jnp.asarray(x2)[None]) ** 2, -1))
        return 0.5 * self.sa**2 * jnp.exp(-self.m * r)


def kernel_sampler(kernel: Callable, jitter: float = 1e-10) -> Callable:
    """A sampler (keys, points) -> Gaussian fields with covariance `kernel(points, points)`."""

    def sample(keys, x):
        x = jnp.asarray(x, jnp.float64)
        k = kernel(x, x)
        w, v = jnp.linalg.eigh(k + jitter * jnp.eye(x.shape[0]))
        root = v * jnp.sqrt(jnp.clip(w, 0.0))[None, :]
        eps = jax.vmap(lambda kk: jax.random.normal(kk, (x.shape[0],), jnp.float64))(keys)
        return eps @ root.T

    sample.__name__ = "GaussianField"
    return sample
