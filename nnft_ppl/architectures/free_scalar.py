"""FreeScalar: the free scalar field of mass m built out of cosine neurons, with a sharp momentum cutoff."""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro

from .. import _validate as V
from .._errors import NNFTError
from ._base import uniform
from ._spectral import RadialSpectralNet, check_d, sign_vectors

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)
#: Landau's bound sup_{x>0, nu>=0} x^(1/3) |J_nu(x)| (L. Landau, J. London Math. Soc. 61, 2000)
LANDAU_C = 0.7858


class FreeScalar(RadialSpectralNet):
    """phi(x) = sum_i a_i cos(p_i . x + b_i) in d = 1, 2, 3 with p_i drawn from the density
    proportional to 1/(p^2 + m^2) in the ball |p| < Lambda, b_i ~ U[-pi, pi], a_i ~ N(0, 2 G(0)/N).

    Its two-point function is the cutoff Klein-Gordon propagator (seed eqs. 2.25-2.26)
    G2(x, y) = int_{|p|<Lambda} d^dp/(2 pi)^d e^{i p.(x-y)} / (p^2 + m^2), at every width; the
    continuum limit Lambda -> infinity is e^{-m r}/(2m), K0(m r)/(2 pi), e^{-m r}/(4 pi r).
    The momentum density carries the propagator (importance sampling), so the amplitude is one
    constant and every neuron moment is exact. The kernel is a 1-D Gauss-Legendre quadrature
    (radial in d = 1, 3; over the angle of the chord in d = 2) built for separations up to `r_max`,
    accurate there to 1e-8 absolute; `quadrature` (the panel edges) is derived from m, Lambda
    and r_max when not given, and is static: it stays when `eqx.tree_at` or GPJax changes m or
    Lambda (fine for small changes; rebuild the architecture after a large one).

    Reflection positivity holds for the continuum propagator (a positive Kallen-Lehmann measure)
    and, for the ball cutoff, only up to the cutoff error (the sharp cutoff is no Kallen-Lehmann
    form; no finite-variance rotation-invariant field in d >= 2 can be one).
    """

    width: int = 100
    d: int = 1
    m: float = 1.0
    Lambda: float = 10.0
    r_max: float = eqx.field(default=20.0, static=True)  # the quadrature's range: a setting, not a scale
    quadrature: tuple | None = eqx.field(static=True, default=None, repr=False)

    def __post_init__(self):
        check_d(self.d)
        V.field_integer("width", self.width)
        V.positive("m", self.m)
        V.positive("Lambda", self.Lambda)
        V.positive("r_max", self.r_max)
        if self.quadrature is None:
            self.quadrature = panel_edges(self.d, self.m / self.Lambda, self.Lambda * self.r_max)

    def params(self) -> dict:
        return {k: v for k, v in super().params().items() if k != "quadrature"}

    # ---- the momentum density ---------------------------------------------------------
    def radius_prior(self, dtype):
        return {"u": numpyro.sample("u", uniform(dtype, 0.0, 1.0))}

    def radius(self, hidden):
        """|p| = F^-1(u) by bisection (exact to the dtype), with the implicit derivative 1/F'(|p|)."""
        return _radius(self.d, self.m, self.Lambda, hidden["u"])

    # ---- the two-point function -------------------------------------------------------
    @property
    def g2_origin(self):
        m, lam = self.m, self.Lambda
        if self.d == 1:
            return jnp.arctan(lam / m) / (math.pi * m)
        if self.d == 2:
            return jnp.log1p((lam / m) ** 2) / (4 * math.pi)
        return (lam - m * jnp.arctan(lam / m)) / (2 * math.pi**2)

    def char(self, r):
        _check_range(r, self.r_max)
        return cutoff_g2(self.d, self.m, self.Lambda, r, self.quadrature) / self.g2_origin

    def cutoff_g2(self, r, refine: bool = False) -> jax.Array:
        """The cutoff integral G2(r) at separations r > 0 (`refine`: every panel halved, for an
        error estimate)."""
        edges = _halve(self.quadrature) if refine else self.quadrature
        return cutoff_g2(self.d, self.m, self.Lambda, jnp.asarray(r), edges)

    def neuron_moment_error(self, x):
        """|quadrature - the rule with every panel halved|, propagated through the sign sum."""
        signs = sign_vectors(x.shape[0])
        if len(signs) == 0:
            return 0.0
        y = np.asarray(signs) @ np.asarray(x)
        r = np.sqrt(np.sum(y * y, axis=-1))
        r = r[r > 0]
        if r.size == 0:
            return 0.0
        diff = np.abs(np.asarray(self.cutoff_g2(r)) - np.asarray(self.cutoff_g2(r, refine=True)))
        return float(np.sum(diff) / float(self.g2_origin) / 2 ** x.shape[0])

    def continuum_g2(self, r) -> np.ndarray:
        """The Lambda -> infinity propagator at r > 0: e^{-mr}/(2m), K0(mr)/(2 pi), e^{-mr}/(4 pi r)."""
        from scipy.special import k0

        r, m = np.asarray(r, np.float64), float(self.m)
        if self.d == 1:
            return np.exp(-m * r) / (2 * m)
        if self.d == 2:
            return k0(m * r) / (2 * math.pi)
        return np.exp(-m * r) / (4 * math.pi * r)

    def cutoff_error_bound(self, r) -> np.ndarray:
        """A rigorous bound on |cutoff G2(r) - continuum G2(r)| = |the momenta beyond Lambda| at r > 0.

        d = 1, 3: the second mean-value theorem (1/(p^2+m^2) and p/(p^2+m^2) decrease beyond
        Lambda >= m): 2/(pi r (Lambda^2+m^2)) and Lambda/(pi^2 r^2 (Lambda^2+m^2)); d = 1 also
        never exceeds the absolute tail (pi/2 - atan(Lambda/m))/(pi m). d = 2: one integration by
        parts and Landau's |J1(z)| <= c z^(-1/3): c r^(-4/3) (Lambda^(2/3)/(Lambda^2+m^2)
        + 1.5 Lambda^(-4/3)) / (2 pi)."""
        r, m, lam = np.asarray(r, np.float64), float(self.m), float(self.Lambda)
        if self.d == 1:
            return np.minimum(2 / (math.pi * r * (lam**2 + m**2)), (math.pi / 2 - math.atan(lam / m)) / (math.pi * m))
        if self.d == 2:
            return LANDAU_C * r ** (-4 / 3) * (lam ** (2 / 3) / (lam**2 + m**2) + 1.5 * lam ** (-4 / 3)) / (2 * math.pi)
        if lam < m:
            raise NNFTError("Lambda: the d = 3 bound needs Lambda >= m")
        return lam / (math.pi**2 * r**2 * (lam**2 + m**2))


# ---- quadrature ----------------------------------------------------------------------
def panel_edges(d: int, m_over_lambda: float, lambda_rmax: float) -> tuple[float, ...]:
    """Panel edges in t in [0, 1] (|p| = Lambda t; in d = 2 the chord angle pi t / 2): at most one
    period of the integrand's phase per panel up to r_max, and panels doubling from m/(4 Lambda)
    to resolve the propagator's peak of width m."""
    rate = lambda_rmax * (math.pi / 2 if d == 2 else 1.0)
    uniform_edges = np.linspace(0.0, 1.0, max(1, math.ceil(rate / (2 * math.pi))) + 1)
    geo = m_over_lambda / 4 * 2.0 ** np.arange(64)
    edges = np.unique(np.concatenate([uniform_edges, geo[geo < 1.0]]))
    return tuple(float(e) for e in edges)


def _halve(edges: tuple[float, ...]) -> tuple[float, ...]:
    e = np.asarray(edges)
    return tuple(float(v) for v in np.sort(np.concatenate([e, 0.5 * (e[1:] + e[:-1])])))


def _nodes(edges: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    e = np.asarray(edges)
    a, b = e[:-1, None], e[1:, None]
    t = 0.5 * (a + b) + 0.5 * (b - a) * _GL_NODES[None]
    w = 0.5 * (b - a) * _GL_WEIGHTS[None]
    return t.ravel(), w.ravel()


@functools.partial(jax.jit, static_argnums=(0, 4))
def cutoff_g2(d: int, m, lam, r, edges: tuple[float, ...]) -> jax.Array:
    """int_{|p|<Lambda} d^dp/(2 pi)^d e^{i p.r}/(p^2+m^2) at |r| = r > 0 (any shape) by Gauss-Legendre."""
    t, w = _nodes(edges)
    r = jnp.asarray(r)[..., None]
    if d == 2:
        th = 0.5 * math.pi * t
        s = jnp.sqrt((lam * jnp.sin(th)) ** 2 + m * m)
        f = jnp.cos(lam * r * jnp.sin(th)) * lam * jnp.cos(th) * jnp.arctan(lam * jnp.cos(th) / s) / s
        return 0.5 * math.pi * jnp.sum(w * f, axis=-1) / math.pi**2
    p = lam * t
    if d == 1:
        return lam * jnp.sum(w * jnp.cos(p * r) / (p * p + m * m), axis=-1) / math.pi
    return lam * jnp.sum(w * p * p / (p * p + m * m) * jnp.sinc(p * r / math.pi), axis=-1) / (2 * math.pi**2)


def _cdf(d, m, lam, k):
    if d == 1:
        return jnp.arctan(k / m) / jnp.arctan(lam / m)
    if d == 2:
        return jnp.log1p((k / m) ** 2) / jnp.log1p((lam / m) ** 2)
    return (k - m * jnp.arctan(k / m)) / (lam - m * jnp.arctan(lam / m))


def _pdf(d, m, lam, k):
    norm = {1: lambda: jnp.arctan(lam / m) / m, 2: lambda: 0.5 * jnp.log1p((lam / m) ** 2)}
    total = norm.get(d, lambda: lam - m * jnp.arctan(lam / m))()
    return k ** (d - 1) / (k * k + m * m) / total


@functools.partial(jax.jit, static_argnums=0)
def _radius(d, m, lam, u):
    k0 = jax.lax.stop_gradient(_bisect(lambda k: _cdf(d, m, lam, k), jax.lax.stop_gradient(u), lam))
    pdf = _pdf(d, m, lam, k0)
    safe = jnp.where(pdf > 0, pdf, 1.0)
    return k0 + (u - jax.lax.stop_gradient(u)) / safe


def _bisect(cdf, u, hi, iters: int = 64):
    lo, up = jnp.zeros_like(u), jnp.full_like(u, hi)

    def body(_, state):
        a, b = state
        mid = 0.5 * (a + b)
        below = cdf(mid) < u
        return jnp.where(below, mid, a), jnp.where(below, b, mid)

    lo, up = jax.lax.fori_loop(0, iters, body, (lo, up))
    return 0.5 * (lo + up)


def _check_range(r, r_max) -> None:
    """Concrete separations beyond r_max (where the quadrature is not built) are an error."""
    if isinstance(r, jax.core.Tracer) or isinstance(r_max, jax.core.Tracer):
        return
    worst = float(np.max(np.asarray(r), initial=0.0))
    if worst > float(r_max) * (1 + 1e-12):
        raise NNFTError(f"x: a separation {worst:.4g} exceeds r_max = {float(r_max):.4g} (raise r_max)")
