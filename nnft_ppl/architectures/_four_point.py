"""The leading 1/N connected four-point function of deep MLPs: the four-point vertex recursion.

Capability `LeadingOrderCumulants`: an architecture whose connected four-point function is known
to leading order in 1/N only (not exactly, unlike `ExactCumulants`).

The recursion (Roberts, Yaida & Hanin, "The principles of deep learning theory",
arXiv:2106.10165, ch. 4). Given layer l, the pre-activations z^{l+1}_i of the next layer are
i.i.d. over neurons i, Gaussian with the empirical kernel
K^_ab = C_b + (C_W/N) sum_j sigma(z^l_j(x_a)) sigma(z^l_j(x_b)). Their connected four-point
function is therefore the covariance of K^, which carries the output-index structure

    kappa(z_i1(x1), z_i2(x2), z_i3(x3), z_i4(x4))
        = (d_i1i2 d_i3i4 V_(12)(34) + d_i1i3 d_i2i4 V_(13)(24) + d_i1i4 d_i2i3 V_(14)(23)) / N,

with V = N Cov(K^_12, K^_34). To leading order, Cov(K^) has two parts: the neurons' own
fluctuations (one neuron, Gaussian z with the NNGP kernel K^l) and the correlation between
neurons inherited from layer l's own K^ fluctuations, propagated by the first derivatives of
the dual g_ab(K) = E[sigma(z_a) sigma(z_b)]:

    V^{l+1}_(e)(e') = C_W^2 (E[s_e1 s_e2 s_e'1 s_e'2] - g_e g_e')
                      + C_W^2 sum_{f, f'} (dg_e/dK_f) V^l_(f)(f') (dg_e'/dK_f'),

over unordered point pairs e, e', f, f' (equal hidden widths), with V^1 = 0 (the first layer is
Gaussian). Through dg/dK_f = (1/2) E[d^2(s s)/dz dz] (Gaussian integration by parts) this is
the book's recursion for the four-point vertex. At one hidden layer it is exact and equals the
i.i.d.-neuron cumulant; with more layers it is the O(1/N) term, and the next is O(L^2/N^2).

Gaussian expectations: the ReLU dual and its derivatives in closed form, its four-point moments
exactly (angular quadrature) where the four points span two dimensions; erf's dual and its
derivatives in closed form; other activations and higher-rank moments by Gauss-Hermite
quadrature, with its error estimate carried through the recursion.
"""

from __future__ import annotations

import abc
import functools
import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Float

from .. import _validate as V
from .._x64 import float64
from ._activations import Activation, elementwise_dual, gaussian_moment, hermite_nodes
from ._base import Architecture
from ._recursion import KernelState, dense, input_layer


class LeadingOrderCumulants(Architecture):
    """Capability: the connected four-point function is known to leading order in 1/N (an
    asymptotic statement, not an exact one: `theory.exact_connected` refuses these)."""

    width: eqx.AbstractVar[int]

    @abc.abstractmethod
    def leading_vertex4(
        self, x: Float[np.ndarray, "P d"], width: int | None = None
    ) -> tuple[Float[np.ndarray, "P P P P"], Float[np.ndarray, "P P P P"]]:
        """The four-point vertex V[i, j, k, l] = V_(ij)(kl) of the output (see the module
        docstring; leading order, independent of N) and its absolute numerical error."""

    @float64
    def leading_connected4(
        self, x: Float[np.ndarray, "P d"], width: int | None = None
    ) -> tuple[Float[np.ndarray, "P P P P"], Float[np.ndarray, "P P P P"]]:
        """G4c(x_i, x_j, x_k, x_l) to leading order in 1/N at `width` (default the
        architecture's own), and its absolute numerical error."""
        n = self.width if width is None else V.integer("width", width)
        v, e = self.leading_vertex4(x, width)
        return pair_sum(v) / n, pair_sum(e) / n


def pair_sum(v: np.ndarray) -> np.ndarray:
    """V_(ij)(kl) + V_(ik)(jl) + V_(il)(jk): the scalar output's G4c times N."""
    return v + v.transpose(0, 2, 1, 3) + v.transpose(0, 3, 2, 1)


# ---- Gaussian expectations --------------------------------------------------------------
_ZG, _WG = np.polynomial.legendre.leggauss(24)


def relu_product_moment(cov: np.ndarray, idx: tuple[int, ...]) -> float:
    """E[prod_m relu(z_{idx_m})] for z ~ N(0, cov) where cov has rank <= 2, exactly.

    With z = A g, g ~ N(0, I_2), the integrand is homogeneous of degree k = len(idx):
    E = E[rho^k] (1/2pi) int_0^{2pi} prod_m relu(A_m . e_t) dt, E[rho^k] = 2^{k/2} Gamma(1 + k/2),
    and on each arc between kinks the integrand is a trigonometric polynomial of degree k,
    which 24-node Gauss-Legendre integrates to rounding."""
    cov = np.asarray(cov, np.float64)
    if cov.shape[0] == 1:  # one point: a second, zero-variance coordinate makes the 2-D rule apply
        cov = np.pad(cov, ((0, 1), (0, 1)))
    lam, vec = np.linalg.eigh(cov)
    a = (vec[:, -2:] * np.sqrt(np.maximum(lam[-2:], 0.0)))[list(idx)]  # (k, 2)
    phis = np.arctan2(a[:, 1], a[:, 0])
    cuts = np.sort(np.concatenate([(phis + s * math.pi / 2) % (2 * math.pi) for s in (1, -1)] + [[0.0, 2 * math.pi]]))
    total = 0.0
    for lo, hi in itertools.pairwise(cuts):
        if hi - lo < 1e-15:
            continue
        t = 0.5 * (hi - lo) * _ZG + 0.5 * (hi + lo)
        vals = np.prod(np.maximum(a @ np.stack([np.cos(t), np.sin(t)]), 0.0), axis=0)
        total += 0.5 * (hi - lo) * float(_WG @ vals)
    k = len(idx)
    return total / (2 * math.pi) * 2 ** (k / 2) * math.gamma(1 + k / 2)


def _relu_grad(a, c, b):
    """(dg/da, dg/dc, dg/db) of the ReLU dual (arc-cosine kernel of order 1), in closed form."""
    ab = np.sqrt(a * b)
    cos_t = np.clip(np.where(ab > 0, c / np.where(ab > 0, ab, 1.0), 1.0), -1.0, 1.0)
    sin_t = np.sqrt(np.maximum(1.0 - cos_t**2, 0.0))
    theta = np.arccos(cos_t)
    ga = np.where(ab > 0, np.sqrt(b / np.where(a > 0, a, 1.0)) * sin_t / (4 * math.pi), 0.0)
    gb = np.where(ab > 0, np.sqrt(a / np.where(b > 0, b, 1.0)) * sin_t / (4 * math.pi), 0.0)
    return ga, (math.pi - theta) / (2 * math.pi), gb


_Z2, _W2 = hermite_nodes(96)


@functools.lru_cache(maxsize=32)
def _derivatives(act: Activation):
    """sigma, sigma', sigma'' as jitted NumPy-in, NumPy-out functions."""
    fns = [jax.jit(jax.vmap(f)) for f in (act.fn, jax.grad(act.fn), jax.grad(jax.grad(act.fn)))]
    return [lambda z, f=f: np.asarray(f(jnp.asarray(z, jnp.float64))) for f in fns]


@functools.lru_cache(maxsize=32)
def _dual_grads(act: Activation):
    """Jitted gradient of a closed-form dual, and of its diagonal a -> g(a, a, a)."""
    return (
        jax.jit(jax.grad(act.dual, argnums=(0, 1, 2))),
        jax.jit(jax.grad(lambda t: act.dual(t, t, t))),
    )


def _gh2(f, g, a, c, b) -> float:
    """E[f(u) g(v)], (u, v) ~ N(0, [[a, c], [c, b]]), by 96^2-node Gauss-Hermite quadrature."""
    sa = math.sqrt(max(a, 1e-300))
    r = c / sa
    s = math.sqrt(max(b - r * r, 0.0))
    u = sa * _Z2
    v = r * _Z2[:, None] + s * _Z2[None, :]
    return float(np.einsum("i,j,i,ij->", _W2, _W2, f(u), g(v.ravel()).reshape(v.shape)))


def dual_grad(act: Activation, a: float, c: float, b: float) -> tuple[float, float, float]:
    """(dg/da, dg/dc, dg/db) of the dual g(a, c, b) = E[sigma(u) sigma(v)]: closed form for ReLU,
    autodiff of the closed-form dual where one exists, else Gaussian integration by parts
    (dg/da = E[sigma'' sigma]/2, dg/dc = E[sigma' sigma'], by quadrature)."""
    if act.name == "relu" and act.dual is not None:
        return tuple(float(t) for t in _relu_grad(a, c, b))
    if act.dual is not None:
        return tuple(float(t) for t in _dual_grads(act)[0](a, c, b))
    f0, f1, f2 = _derivatives(act)
    return 0.5 * _gh2(f2, f0, a, c, b), _gh2(f1, f1, a, c, b), 0.5 * _gh2(f0, f2, a, c, b)


def diagonal_grad(act: Activation, a: float) -> float:
    """d/da g(a, a, a): the derivative of E[sigma(z)^2] with the variance a."""
    if act.name == "relu":
        return 0.5
    if act.dual is not None:
        return float(_dual_grads(act)[1](a))
    f0, f1, f2 = _derivatives(act)
    return _gh2(lambda z: f2(z) * f0(z) + f1(z) ** 2, lambda z: np.ones_like(z), a, 0.0, 1.0)


def four_moment(act: Activation, cov: np.ndarray, idx: tuple[int, ...]) -> tuple[float, float]:
    """E[sigma(z_i) sigma(z_j) sigma(z_k) sigma(z_l)] over the points `idx` and its absolute error:
    exact for ReLU where the points' covariance has rank <= 2, Gauss-Hermite otherwise."""
    pts = sorted(set(idx))
    sub = cov[np.ix_(pts, pts)]
    local = tuple(pts.index(i) for i in idx)
    lam = np.linalg.eigvalsh(sub)
    rank = int(np.sum(lam > 1e-12 * max(lam.max(), 1e-300)))
    if act.name == "relu" and rank <= 2:
        return relu_product_moment(sub, local), 0.0
    full = sub[np.ix_(local, local)]
    return gaussian_moment(act.fn, full, with_error=True)


# ---- the recursion -------------------------------------------------------------------------
def _pairs(p: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(p) for j in range(i, p)]


def _layer_terms(act: Activation, k: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At one layer with NNGP kernel k (P, P) and dual g = E[sigma sigma] (P, P): the neuron term
    E[ssss] - g g and its error (Q, Q), and the Jacobian J[e, f] = dg_e / dK_f (Q, Q) over
    unordered pairs."""
    p = k.shape[0]
    pairs = _pairs(p)
    index = {e: q for q, e in enumerate(pairs)}
    moment = functools.cache(lambda t: four_moment(act, k, t))
    q = len(pairs)
    m4, err = np.empty((q, q)), np.empty((q, q))
    for (qa, (i, j)), (qb, (m, n)) in itertools.product(enumerate(pairs), repeat=2):
        m4[qa, qb], err[qa, qb] = moment(tuple(sorted((i, j, m, n))))
    m4 -= np.array([[g[e] * g[f] for f in pairs] for e in pairs])
    jac = np.zeros((q, q))
    for qa, (i, j) in enumerate(pairs):
        if i == j:
            jac[qa, qa] = diagonal_grad(act, float(k[i, i]))
            continue
        ga, gc, gb = dual_grad(act, float(k[i, i]), float(k[i, j]), float(k[j, j]))
        jac[qa, index[(i, i)]], jac[qa, qa], jac[qa, index[(j, j)]] = ga, gc, gb
    return m4, err, jac


def deep_vertex(
    x: np.ndarray, act: Activation, sw: float, sb: float, depth: int
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The output's four-point vertex V_(ij)(kl) (P, P, P, P) of a depth-`depth` MLP at points
    x (P, d) to leading order, its absolute numerical error, and the vertex after every layer
    (as (Q, Q) matrices over unordered pairs; entry l is V^{l+2}, the output of depth l + 1)."""
    x = np.asarray(x, np.float64)
    p = x.shape[0]
    with jax.enable_x64(True):
        kernels, duals = (np.asarray(t, np.float64) for t in _layer_kernels(jnp.asarray(x), act, sw, sb, depth))
        q = p * (p + 1) // 2
        v, verr = np.zeros((q, q)), np.zeros((q, q))
        history = []
        cw2 = sw**4
        for k, g in zip(kernels, duals, strict=True):
            m4, err, jac = _layer_terms(act, k, g)
            v = cw2 * m4 + cw2 * jac @ v @ jac.T
            verr = cw2 * err + cw2 * np.abs(jac) @ verr @ np.abs(jac).T
            history.append(v.copy())
    return _expand(v, p), _expand(verr, p), history


def _layer_kernels(x, act: Activation, sw, sb, depth: int):
    """The NNGP kernels K^1..K^depth of the hidden pre-activations at x (depth, P, P) and the
    duals g(K^l) = E[sigma sigma] over them (one compiled layer step, shared by every depth)."""
    k, a = _input_state(x, sw, sb)
    ks, gs = [], []
    for _ in range(depth):
        ks.append(k)
        g, k, a = _dense_step(k, a, act, sw, sb)
        gs.append(g)
    return np.stack(ks), np.stack(gs)


@jax.jit
def _input_state(x, sw, sb):
    st = input_layer(x, x, sw, sb)
    return st.c, st.a1


@functools.partial(jax.jit, static_argnums=2)
def _dense_step(k, a, act: Activation, sw, sb):
    """One layer: the dual g(K^l) and the next kernel K^{l+1} with its diagonal."""
    dual = elementwise_dual(act)
    nxt = dense(KernelState(a, k, a), dual, sw, sb)
    return dual(a[:, None], k, a[None, :]), nxt.c, nxt.a1


def _expand(v: np.ndarray, p: int) -> np.ndarray:
    """A (Q, Q) matrix over unordered pairs as the (P, P, P, P) tensor V[i, j, k, l]."""
    index = {e: q for q, e in enumerate(_pairs(p))}
    out = np.empty((p,) * 4)
    for i, j, k, m in itertools.product(range(p), repeat=4):
        out[i, j, k, m] = v[index[tuple(sorted((i, j)))], index[tuple(sorted((k, m)))]]
    return out
