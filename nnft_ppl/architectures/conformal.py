"""ConformalField: a generalised free field of dimension Delta, G2 = C / |x - y|^(2 Delta), from cosine neurons."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jax.scipy.special import gammaln

from .. import _validate as V
from .._errors import NNFTError
from ._spectral import RadialSpectralNet, check_d, gamma

#: 1F1(a; b; -z): the positive Kummer series below this z, the asymptotic series above
_Z_SWITCH = 40.0
_N_SERIES = 160
_N_ASYMPTOTIC = 30


class ConformalField(RadialSpectralNet):
    """phi(x) = sum_i a_i cos(p_i . x + b_i) with the power-law momentum density
    |p|^(2 Delta - d) exp(-|p|^2 / Lambda^2) (so |p|^2 / Lambda^2 ~ Gamma(Delta, 1)), b_i ~ U[-pi, pi].

    Two-point function, exact at every width:
    G2(r) = G2(0) 1F1(Delta; d/2; -Lambda^2 r^2 / 4), G2(0) = C Gamma(d/2 - Delta)/Gamma(d/2) (Lambda/2)^(2 Delta),
    which tends to the conformal C / r^(2 Delta) for Lambda r >> 1, with relative corrections
    4 Delta (Delta - d/2 + 1) / (Lambda r)^2 + O((Lambda r)^-4). The UV regulator is the Gaussian
    damping at scale Lambda; no IR regulator is needed: the radial density k^(2 Delta - 1) is
    integrable at k = 0 for Delta > 0, so the ensemble is normalisable and G2 decays as the
    power law. Supported: d = 1, 2, 3 and max(0, (d-2)/2) <= Delta < d/2 (unitarity; Delta > 0
    for an integrable spectral density, Delta < d/2 for a positive one); `Delta=None` means
    d/2 - 1/4. arXiv:2409.12222 builds conformal fields from embedding-space networks; this is
    the generalised free field its infinite-width limit realises, not that construction.
    """

    width: int = 100
    d: int = 1
    C: float = 1.0
    Lambda: float = 10.0
    Delta: float | None = None

    def __post_init__(self):
        check_d(self.d)
        V.field_integer("width", self.width)
        V.positive("C", self.C)
        V.positive("Lambda", self.Lambda)
        if self.Delta is None:
            self.Delta = self.d / 2 - 0.25
        check_delta(self.d, self.Delta)

    # ---- neurons ------------------------------------------------------------------------
    def radius_prior(self, dtype):
        return {"g": numpyro.sample("g", gamma(dtype, self.Delta))}

    def radius(self, hidden):
        return self.Lambda * jnp.sqrt(hidden["g"])

    # ---- the two-point function ---------------------------------------------------------
    @property
    def g2_origin(self):
        half = self.d / 2
        return self.C * jnp.exp(gammaln(half - self.Delta) - gammaln(half)) * (self.Lambda / 2) ** (2 * self.Delta)

    def char(self, r):
        return hyp1f1_neg(self.Delta, self.d / 2, (self.Lambda * r) ** 2 / 4)

    def continuum_g2(self, r) -> np.ndarray:
        """C / r^(2 Delta), the Lambda -> infinity limit at r > 0."""
        return float(self.C) * np.asarray(r, np.float64) ** (-2 * float(self.Delta))


def check_delta(d: int, delta) -> None:
    """Delta within max(0, (d-2)/2) <= Delta < d/2, Delta > 0 (an NNFTError naming Delta otherwise)."""
    if isinstance(delta, jax.core.Tracer):
        return
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating, np.integer)):
        raise NNFTError(f"Delta: must be a number, got {type(delta).__name__}")
    delta = float(delta)
    lo = max(0.0, (d - 2) / 2)
    if not (math.isfinite(delta) and delta > 0 and delta >= lo and delta < d / 2):
        raise NNFTError(
            f"Delta: must satisfy max(0, (d-2)/2) <= Delta < d/2 and Delta > 0 (unitarity bound (d-2)/2; "
            f"Delta < d/2 for a positive spectral density) in d = {d}, got {delta}"
        )


@jax.jit
def hyp1f1_neg(a, b, z):
    """1F1(a; b; -z) for z >= 0 (elementwise, differentiable): Kummer's e^-z 1F1(b-a; b; z) with
    positive terms for z <= 40, the asymptotic Gamma(b)/Gamma(b-a) z^-a 2F0(a, a-b+1;; 1/z) above
    (the e^-z term left out is below 1e-17 there); accurate to ~1e-14 relative for 0 < a < b <= 3/2."""
    z = jnp.asarray(z)
    zs = jnp.where(z <= _Z_SWITCH, z, 0.0)
    series = jnp.exp(-zs) * _power_series(lambda k: (b - a + k - 1) / ((b + k - 1) * k) * zs, _N_SERIES)
    za = jnp.where(z > _Z_SWITCH, z, 2 * _Z_SWITCH)
    pref = jnp.exp(gammaln(b) - gammaln(b - a) - a * jnp.log(za))
    asym = pref * _power_series(lambda k: (a + k - 1) * (a - b + k) / (k * za), _N_ASYMPTOTIC)
    return jnp.where(z <= _Z_SWITCH, series, asym)


def _power_series(ratio, n: int):
    """1 + sum_{k=1}^{n-1} t_k with t_k = t_{k-1} ratio(k), t_0 = 1 (a loop: small to compile and differentiate)."""

    def body(k, carry):
        term, total = carry
        term = term * ratio(k.astype(total.dtype))
        return term, total + term

    one = jnp.ones_like(ratio(jnp.ones((), jnp.result_type(float))))
    return jax.lax.fori_loop(1, n, body, (one, one))[1]
