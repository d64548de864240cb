"""Activations by name, each with its Gaussian dual where one is known in closed form.

The dual of sigma is V(a, c, b) = E[sigma(u) sigma(v)] for (u, v) ~ N(0, [[a, c], [c, b]]);
it drives the NNGP kernel of single-layer networks and the layer recursion of deep
ones. Activations without a closed-form dual use Gauss-Hermite quadrature.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import NNFTError
from ._fastmath import arccos, arcsin


class Activation(NamedTuple):
    name: str
    fn: Callable
    dual: Callable | None  # (a, c, b) -> E[fn(u) fn(v)]


def _erf_dual(a, c, b):
    return (2.0 / jnp.pi) * arcsin(2.0 * c / jnp.sqrt((1.0 + 2.0 * a) * (1.0 + 2.0 * b)))


def _relu_dual(a, c, b):
    # arc-cosine kernel of order 1 (Cho & Saul 2009)
    ab = jnp.sqrt(a * b)
    # clipped inside (-1, 1): arccos has an infinite derivative at +-1 (coincident points)
    cos_t = jnp.clip(c / jnp.where(ab > 0, ab, 1.0), -1.0 + 1e-15, 1.0 - 1e-15)
    t = arccos(cos_t)  # sin(arccos u) = sqrt(1 - u^2)
    return ab * (jnp.sqrt((1.0 - cos_t) * (1.0 + cos_t)) + (jnp.pi - t) * cos_t) / (2.0 * jnp.pi)


def _cos_dual(a, c, b):
    return 0.5 * (jnp.exp(-0.5 * (a + b - 2 * c)) + jnp.exp(-0.5 * (a + b + 2 * c)))


def _exp_dual(a, c, b):
    return jnp.exp(0.5 * (a + b + 2 * c))


def _linear_dual(a, c, b):
    return c


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("erf", jax.scipy.special.erf, _erf_dual),
        Activation("relu", jax.nn.relu, _relu_dual),
        Activation("cos", jnp.cos, _cos_dual),
        Activation("exp", jnp.exp, _exp_dual),
        Activation("linear", lambda z: z, _linear_dual),
        Activation("tanh", jnp.tanh, None),
        Activation("sin", jnp.sin, None),
        Activation("gelu", jax.nn.gelu, None),
        Activation("softplus", jax.nn.softplus, None),
        Activation("sigmoid", jax.nn.sigmoid, None),
        Activation("swish", jax.nn.swish, None),
    ]
}


def get_activation(activation: str | Callable) -> Activation:
    """Look up an activation by name, or wrap a user function (dual by quadrature)."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise NNFTError(
                f"activation: unknown activation {activation!r}; known: {sorted(ACTIVATIONS)} "
                "(or pass any jax-traceable function)"
            )
        return ACTIVATIONS[activation]
    if callable(activation):
        try:
            out = jnp.asarray(activation(jnp.linspace(-1.0, 1.0, 5)))
        except Exception as e:  # noqa: BLE001 - report any failure as bad input
            raise NNFTError(f"activation: calling it on an array failed: {e}") from e
        if out.shape != (5,):
            raise NNFTError("activation: must act elementwise (same shape out as in)")
        return Activation(getattr(activation, "__name__", "custom"), activation, None)
    raise NNFTError(f"activation: expected a name or a function, got {type(activation).__name__}")


def hermite_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights normalised to a N(0, 1) expectation."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / math.sqrt(2.0 * math.pi)


_Z2, _W2 = hermite_nodes(160)


def gaussian_dual(act: Activation, a, c, b):
    """E[act(u) act(v)] for (u, v) ~ N(0, [[a, c], [c, b]]): closed form or 160^2-node quadrature."""
    if act.dual is not None:
        return act.dual(a, c, b)
    z = jnp.asarray(_Z2)
    w = jnp.asarray(_W2)
    sa = jnp.sqrt(jnp.maximum(a, 1e-300))
    u = sa * z
    r = c / sa
    q = b - r * r  # conditional variance of v given u: 0 at coincident points
    s = jnp.where(q > 0, jnp.sqrt(jnp.where(q > 0, q, 1.0)), 0.0)  # sqrt with a finite gradient at 0
    fu = act.fn(u)
    v = r * z[:, None] + s * z[None, :]
    return jnp.einsum("i,j,i,ij->", w, w, fu, act.fn(v))


def elementwise_dual(act: Activation) -> Callable:
    """The dual (a, c, b) -> E[act(u) act(v)] acting elementwise on broadcast arrays: the closed
    form where there is one, the quadrature `gaussian_dual` vectorised otherwise."""
    if act.dual is not None:
        return act.dual
    return jnp.vectorize(lambda a, c, b: gaussian_dual(act, a, c, b))


@lru_cache(maxsize=16)
def _tensor_grid(r: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = hermite_nodes(n)
    pts = np.stack([g.ravel() for g in np.meshgrid(*([z] * r), indexing="ij")], axis=1)
    wts = np.prod(np.meshgrid(*([w] * r), indexing="ij"), axis=0).ravel()
    return pts, wts


def gaussian_moment(fn: Callable, cov, budget: int = 200_000, with_error: bool = False):
    """E[prod_j fn(z_j)] for z ~ N(0, cov), by tensor Gauss-Hermite quadrature over the
    range of cov (r = its numerical rank; n^r <= `budget` nodes, n <= 200 per axis).

    With `with_error`, returns (value, error) where the error estimate is the largest difference
    from the same rule with n // 2 and 2n // 3 nodes per axis: for smooth integrands a generous
    bound; for kinked ones the rule converges algebraically and not monotonically, so one coarser
    rule can land close to the n-node value by chance: on ReLU's rank-2 four-point moments (124
    tuples against their exact angular integral) one coarser rule covered the true error 79% of the
    time, two 94%. An estimate, not a bound, for kinked integrands. Host-side (numpy): used for
    exact finite-width moments, not inside jit.

    Repeated points (equal rows of cov) are one variable raised to its multiplicity: the rule is
    evaluated once per set of distinct points and serves every product of powers over them. ReLU
    (`jax.nn.relu`) on a range of rank 1 or 2 (inputs in d = 1, or two distinct points) is integrated
    exactly instead (`_relu_moment_low_rank`)."""
    cov = np.asarray(cov, np.float64)
    _, first, label = np.unique(cov, axis=0, return_index=True, return_inverse=True)
    order = np.sort(first)  # the distinct points in order of first appearance
    powers = tuple(int(np.sum(label.ravel() == label.ravel()[i])) for i in order)
    cov = cov[np.ix_(order, order)]
    lam, vec = np.linalg.eigh(cov)
    lam = np.maximum(lam, 0.0)
    r = max(1, int(np.sum(lam > 1e-12 * (lam.max() + 1e-300))))
    lam, vec = lam[-r:], vec[:, -r:]
    n = int(min(200, max(8, math.floor(budget ** (1.0 / r)))))

    factor = vec * np.sqrt(lam)
    if fn is jax.nn.relu and r <= 2:  # exact: the radius factors out of a positively homogeneous integrand
        value, err = _relu_moment_low_rank(factor, powers)
        return (value, err) if with_error else value
    degree = max(_DEGREE, sum(powers))

    def rule(m: int) -> float:
        return _tensor_rule(fn, factor.tobytes(), factor.shape, r, m, degree)[powers]

    value = rule(n)
    if not with_error:
        return value
    return value, max(abs(value - rule(n // 2)), abs(value - rule(2 * n // 3)))


def _relu_moment_low_rank(factor: np.ndarray, powers: tuple[int, ...]) -> tuple[float, float]:
    """E[prod_j relu(f_j . u)^p_j] for u ~ N(0, I_r), r = 1 or 2 (the rows f_j of `factor`), and its
    numerical error. relu is positively homogeneous, so the radius factors out (E|u|^K for r = 1,
    E rho^K with rho^2 ~ chi^2_2 for r = 2; K = sum p_j) and what is left is an average over directions:
    for r = 2 of a product of clipped cosines, a trigonometric polynomial between its kinks, integrated
    arc by arc with Gauss-Legendre (exact to rounding; the error is the 32- against the 16-node rule).
    The tensor Gauss-Hermite rule converges only algebraically on the kinks (measured: 1e-5 relative
    off, with its coarse-rule error estimate 4-10x short for some four-point moments)."""
    p = np.asarray(powers, np.float64)
    k = float(p.sum())
    if factor.shape[1] == 1:
        radial = 2 ** (k / 2) * math.gamma((k + 1) / 2) / math.sqrt(math.pi)  # E|u|^K
        signs = (np.prod(np.maximum(s * factor[:, 0], 0.0) ** p) for s in (1.0, -1.0))
        return radial * 0.5 * float(sum(signs)), 0.0
    norms = np.linalg.norm(factor, axis=1)
    phis = np.arctan2(factor[:, 1], factor[:, 0])
    cuts = np.unique(np.mod(np.concatenate([phis + np.pi / 2, phis - np.pi / 2, [0.0]]), 2 * np.pi))
    cuts = np.append(cuts, 2 * np.pi)

    def arcs(nodes: int) -> float:
        z, w = np.polynomial.legendre.leggauss(nodes)
        total = 0.0
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            th = 0.5 * (hi - lo) * z + 0.5 * (hi + lo)
            c = np.maximum(np.cos(th[:, None] - phis[None, :]), 0.0)
            total += 0.5 * (hi - lo) * float(np.sum(w * np.prod(c**p, axis=1)))
        return total / (2 * np.pi)

    fine, coarse = arcs(32), arcs(16)
    scale = 2 ** (k / 2) * math.gamma(1 + k / 2) * float(np.prod(norms**p))  # E rho^K times the lengths
    return scale * fine, scale * abs(fine - coarse)


#: the total degree up to which one evaluation of a rule serves every product of powers (the
#: exact cumulants go to sixth order)
_DEGREE = 6


@lru_cache(maxsize=1024)
def _tensor_rule(fn: Callable, factor: bytes, shape: tuple[int, int], r: int, m: int, degree: int) -> dict:
    """The m^r-node tensor rule for E[prod_j fn(z_j)^p_j], z = factor @ (standard normal), for every
    power vector p (each p_j >= 1, total <= `degree`): memoised, since a moment and its error
    estimate (`gaussian_moment(..., with_error=True)`) share the m-node rule, and the moments of a
    set of points with repeats share its distinct points' rule."""
    pts, wts = _tensor_grid(r, m)
    zs = pts @ np.frombuffer(factor, np.float64).reshape(shape).T  # (m^r, k) for k distinct points
    k = zs.shape[1]
    width = max(_COLUMN_PAD, k)  # one compiled program per (fn, m^r) serves every k up to the pad
    padded = np.zeros((zs.shape[0], width))
    padded[:, :k] = zs
    h = np.asarray(_columns(fn)(padded))[:, :k]
    pow_ = [[h[:, j]] for j in range(k)]  # pow_[j][p - 1] = h_j^p
    for col in pow_:
        for _ in range(degree - k):
            col.append(col[-1] * col[0])
    out = {}
    for p in itertools.product(range(1, degree - k + 2), repeat=k):
        if sum(p) <= degree:
            prod = pow_[0][p[0] - 1]
            for j in range(1, k):
                prod = prod * pow_[j][p[j] - 1]
            out[p] = float(np.sum(wts * prod))
    return out


#: columns (points) a quadrature's integrand is padded to, so one compilation serves moments of 1 to 8 points
_COLUMN_PAD = 8


@lru_cache(maxsize=64)
def _columns(fn: Callable) -> Callable:
    return jax.jit(fn)


# ---- derivative duals: E[sigma'(u) sigma'(v)], the NTK's K-dot ------------------------------
def _erf_derivative_dual(a, c, b):
    # sigma' = (2/sqrt(pi)) exp(-z^2): a Gaussian integral in closed form
    return (4.0 / jnp.pi) / jnp.sqrt((1.0 + 2.0 * a) * (1.0 + 2.0 * b) - 4.0 * c * c)


def _relu_derivative_dual(a, c, b):
    # arc-cosine kernel of order 0: P(u > 0, v > 0) = (pi - angle) / (2 pi)
    ab = jnp.sqrt(a * b)
    cos_t = jnp.clip(c / jnp.where(ab > 0, ab, 1.0), -1.0, 1.0)
    return (jnp.pi - arccos(cos_t)) / (2.0 * jnp.pi)


def _cos_derivative_dual(a, c, b):
    # sigma' = -sin: E[sin u sin v]
    return 0.5 * (jnp.exp(-0.5 * (a + b - 2 * c)) - jnp.exp(-0.5 * (a + b + 2 * c)))


def _linear_derivative_dual(a, c, b):
    return jnp.ones_like(a * c * b)


#: closed-form derivative duals (a, c, b) -> E[sigma'(u) sigma'(v)], by activation name
DERIVATIVE_DUALS: dict[str, Callable] = {
    "erf": _erf_derivative_dual,
    "relu": _relu_derivative_dual,
    "cos": _cos_derivative_dual,
    "exp": _exp_dual,  # exp' = exp
    "linear": _linear_derivative_dual,
}


def derivative_activation(act: Activation) -> Activation:
    """sigma' as an activation (elementwise `jax.grad`), with its closed-form dual where known:
    the derivative dual E[sigma'(u) sigma'(v)] is then `gaussian_dual` / `elementwise_dual` of it."""
    fn = jnp.vectorize(jax.grad(act.fn))
    return Activation(f"d_{act.name}", fn, DERIVATIVE_DUALS.get(act.name) if _is_builtin(act) else None)


def _is_builtin(act: Activation) -> bool:
    return act.name in ACTIVATIONS and ACTIVATIONS[act.name] is act


def elementwise_derivative_dual(act: Activation) -> Callable:
    """(a, c, b) -> E[sigma'(u) sigma'(v)] elementwise (the NTK's K-dot): the closed form where there
    is one, the same Gauss-Hermite quadrature as the dual applied to sigma' otherwise."""
    return elementwise_dual(derivative_activation(act))
