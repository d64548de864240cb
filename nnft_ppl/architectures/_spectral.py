"""Random Fourier neurons with a rotation-invariant momentum density: the shared base of the
free scalar field and the conformal (generalised free) field.

phi(x) = sum_i a_i cos(p_i . x + b_i), p_i = k_i n_i with n_i uniform on the unit sphere, the
radius k_i from a density rho(k) that sets the field theory, b_i ~ U[-pi, pi] and
a_i ~ N(0, 2 G(0) / N). Then G2(x, y) = G(0) chi(|x - y|) with chi(r) = E[j_d(k r)] and
j_d(z) = Gamma(d/2) (2/z)^(d/2 - 1) J_(d/2 - 1)(z) (cos z, J0(z), sin z / z for d = 1, 2, 3),
i.e. G2 is the Fourier transform of the spectral density; the neuron moments are
E[prod_j cos(p . x_j + b)] = 2^-K sum_{s in {+-1}^K, sum s = 0} chi(|sum_j s_j x_j|).
"""

from __future__ import annotations

import abc
import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from .. import _validate as V
from .._errors import NNFTError
from ._base import IIDNeuronArchitecture, normal, uniform

SUPPORTED_D = (1, 2, 3)


def check_d(d) -> None:
    """`d` must be 1, 2 or 3 (the radial transforms implemented)."""
    V.field_integer("d", d)
    if int(d) not in SUPPORTED_D:
        raise NNFTError(f"d: must be one of {SUPPORTED_D}, got {d}")


def radial(fn, r2: jax.Array) -> jax.Array:
    """fn(r) at r = sqrt(r2) with fn(0) = 1, differentiable at r2 = 0 (no NaN from the square root)."""
    pos = r2 > 0
    r = jnp.sqrt(jnp.where(pos, r2, 1.0))
    return jnp.where(pos, fn(r), 1.0)


def sign_vectors(k: int) -> np.ndarray:
    """The sign vectors s in {+-1}^k with sum s = 0 (the phases that survive the average over b)."""
    return np.array([s for s in itertools.product((1, -1), repeat=k) if sum(s) == 0], dtype=np.float64)


class RadialSpectralNet(IIDNeuronArchitecture):
    """Abstract: i.i.d. cosine neurons whose momenta have a rotation-invariant density.

    A final subclass gives the radius prior (`radius_prior`, `radius`), the normalised
    characteristic function `char(r) = E[j_d(k r)]` (chi(0) = 1) and `g2_origin = G2(x, x)`.
    """

    readout_site = "a"

    @property
    @abc.abstractmethod
    def g2_origin(self) -> float:
        """G2(x, x): the readout variance is 2 G2(x, x), since E[cos^2] = 1/2."""

    @abc.abstractmethod
    def radius_prior(self, dtype) -> dict:
        """Sample sites that fix |p| for each neuron (inside the neuron plate)."""

    @abc.abstractmethod
    def radius(self, hidden: dict) -> jax.Array:
        """|p| of each neuron, shape (N,), from the sites of `radius_prior`."""

    @abc.abstractmethod
    def char(self, r: jax.Array) -> jax.Array:
        """chi(r) = E[j_d(|p| r)] for r > 0 (elementwise; `radial` supplies r = 0)."""

    @property
    def readout_std(self):
        return (2.0 * self.g2_origin) ** 0.5

    @property
    def bias_std(self):
        return 0.0

    def neuron_prior(self, dtype=jnp.float64):
        sites = dict(self.radius_prior(dtype))
        sites["n"] = numpyro.sample("n", normal(dtype, 1.0).expand([self.d]).to_event(1))
        sites["b"] = numpyro.sample("b", uniform(dtype, -math.pi, math.pi))
        return sites

    def features(self, hidden, x):
        n = hidden["n"]
        unit = n / jnp.linalg.norm(n, axis=-1, keepdims=True)
        proj = jnp.einsum("nd,pd->np", unit, x, precision=jax.lax.Precision.HIGHEST)
        return jnp.cos(self.radius(hidden)[:, None] * proj + hidden["b"][:, None])

    def chi(self, r2: jax.Array) -> jax.Array:
        """chi at squared separations r2 (any shape), chi(0) = 1."""
        return radial(self.char, r2)

    def kernel(self, x1, x2):
        diff = jnp.asarray(x1)[:, None, :] - jnp.asarray(x2)[None, :, :]
        return self.g2_origin * self.chi(jnp.sum(diff * diff, axis=-1))

    def neuron_moment(self, x):
        signs = sign_vectors(x.shape[0])
        if len(signs) == 0:
            return jnp.zeros((), x.dtype)
        y = jnp.asarray(signs) @ x
        return jnp.sum(self.chi(jnp.sum(y * y, axis=-1))) / 2 ** x.shape[0]


class Gamma(dist.Gamma):
    """`dist.Gamma(concentration, 1)` whose draws keep the concentration's dtype, drawn by
    Marsaglia-Tsang with a fixed number of proposals (no while loop: small to compile under vmap)."""

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + self.batch_shape + self.event_shape
        return marsaglia_tsang(key, self.concentration, shape, jnp.dtype(jnp.result_type(self.concentration)))


#: proposals per draw: each is accepted with probability >= 0.95 (shape >= 1), so all fail with
#: probability < 0.05^16 ~ 2e-21 (then the last proposal is returned): exact to far below any error bar
_PROPOSALS = 16


@functools.partial(jax.jit, static_argnums=(2, 3))
def marsaglia_tsang(key, alpha, shape, dtype):
    """Gamma(alpha, 1) draws (Marsaglia & Tsang 2000; alpha < 1 by Gamma(alpha + 1) U^(1/alpha))."""
    alpha = jnp.asarray(alpha, dtype)
    k_norm, k_unif, k_boost = jax.random.split(key, 3)
    a1 = jnp.where(alpha < 1, alpha + 1, alpha)
    dd = a1 - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * dd)
    z = jax.random.normal(k_norm, (_PROPOSALS, *shape), dtype)
    u = jax.random.uniform(k_unif, (_PROPOSALS, *shape), dtype, minval=jnp.finfo(dtype).tiny)
    v = (1.0 + c * z) ** 3
    vpos = jnp.where(v > 0, v, 1.0)
    ok = (v > 0) & (jnp.log(u) < 0.5 * z * z + dd - dd * vpos + dd * jnp.log(vpos))
    first = jnp.argmax(jnp.concatenate([ok[:-1], jnp.ones_like(ok[-1:])], axis=0), axis=0)
    g = dd * jnp.take_along_axis(vpos, first[None], axis=0)[0]
    boost = jax.random.uniform(k_boost, shape, dtype, minval=jnp.finfo(dtype).tiny) ** (1.0 / alpha)
    return jnp.where(alpha < 1, g * boost, g)


def gamma(dtype, concentration) -> dist.Gamma:
    """Gamma(concentration, rate 1) whose draws have `dtype`."""
    return Gamma(jnp.asarray(concentration, dtype), jnp.ones((), dtype), validate_args=False)
