"""KAN: a Kolmogorov-Arnold network [d, N, 1] with B-spline edge functions, at initialisation.

Liu et al., arXiv:2404.19756 (the seed's section 2.1.2): every edge carries a learnable
one-dimensional function phi(t) = w_b silu(t) + w_s sum_i c_i B_i(t) on a fixed B-spline grid
(`_bspline`); nodes only add. Here one hidden layer of N nodes:

    z_j(x) = sum_p [ Wb0_jp silu(x_p) + sum_i C0_jpi B_i(x_p) ]           (inner edges)
    phi(x) = sum_j W1_j [ silu(z_j(x)) + sum_i C1_ji B_i(z_j(x)) ]     (outer edges)

with Wb0 ~ N(0, sbase^2 / d), C0 ~ N(0, sspline^2 / d), C1 ~ N(0, sspline^2), W1 ~ N(0, sw^2 / N)
(no output bias: nodes only add). The outer edge j is w_b silu + spline with w_b = W1_j and spline coefficients
W1_j C1_ji: the same function class as the paper's (w_s is redundant beside free c_i), written
so that W1_j is a Gaussian readout scaled like 1/sqrt(N). The hidden nodes are i.i.d., so
this is an `IIDNeuronArchitecture` (exact cumulants, the neuron-level estimator) and as
N -> infinity phi is a Gaussian process by the central limit theorem.

The kernel: z_j is linear in Gaussian coefficients, hence Gaussian with covariance
Kz(x, x') = F(x) . F(x'), F the scaled basis features of the inputs; given z, the outer
edge is Gaussian with mean silu(z) and covariance sspline^2 B(z) . B(z'). So
K(x, x') = sw^2 E[silu(u) silu(v) + sspline^2 B(u) . B(v)], (u, v) ~ N(0, Kz): a
2-D Gauss-Hermite quadrature in float64 (`KERNEL_NODES`^2 nodes, differentiable in JAX).
Neuron moments of 3 or more points use a tensor Gauss-Hermite rule over the range of Kz with
Gaussian (Isserlis) moments of the outer coefficients.
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import numpyro

from .. import _validate as V
from ._activations import hermite_nodes
from ._base import IIDNeuronArchitecture, normal
from ._bspline import bspline_basis, n_basis, silu

#: Gauss-Hermite nodes per axis of the kernel's 2-D rule (half of them give its error estimate)
KERNEL_NODES = 64
#: node budget of the tensor rule for moments of three or more points
MOMENT_BUDGET = 40_000


def _concrete(v):
    """A scale as a Python float, so NumPy input stays in NumPy (a JAX scalar would send every op
    through eager JAX); a traced scale (under `jax.grad`, `jit`) is returned as it is, so gradients
    still flow through it."""
    return v if isinstance(v, jax.core.Tracer) else float(v)


class KAN(IIDNeuronArchitecture):
    """Kolmogorov-Arnold network [d, N, 1] with B-spline edges at initialisation (see the module)."""

    width: int = 100
    d: int = 1
    grid: int = 5
    order: int = 3
    bound: float = 2.0
    sbase: float = 1.0
    sspline: float = 1.0
    sw: float = 1.0

    zoo_test_params: ClassVar[dict] = {"grid": 3, "order": 2}

    def __check_init__(self):
        V.field_integer("width", self.width)
        V.field_integer("d", self.d)
        V.field_integer("grid", self.grid)
        V.field_integer("order", self.order, minimum=1, maximum=8)
        for name in ("bound", "sbase", "sspline", "sw"):
            V.positive(name, getattr(self, name))

    @property
    def n_basis(self) -> int:
        return n_basis(self.grid, self.order)

    @property
    def readout_std(self) -> float:
        return self.sw

    @property
    def bias_std(self) -> float:
        return 0.0  # KAN nodes only add: no output bias

    def basis(self, t):
        """B_i(t) on this network's grid: shape t.shape + (grid + order,) (NumPy in, NumPy out
        when the bound is concrete)."""
        bound = _concrete(self.bound) if isinstance(t, np.ndarray) else self.bound
        return bspline_basis(t, self.grid, self.order, bound)

    def neuron_prior(self, dtype=jnp.float64):
        d, nb = self.d, self.n_basis
        wb = numpyro.sample("Wb0", normal(dtype, self.sbase / math.sqrt(d)).expand([d]).to_event(1))
        c0 = numpyro.sample("C0", normal(dtype, self.sspline / math.sqrt(d)).expand([d, nb]).to_event(2))
        c1 = numpyro.sample("C1", normal(dtype, self.sspline).expand([nb]).to_event(1))
        return {"Wb0": wb, "C0": c0, "C1": c1}

    def preactivation(self, hidden, x):
        """z_j(x) = sum_p phi_jp(x_p), the hidden nodes: (N, P)."""
        x = jnp.asarray(x)
        base = jnp.einsum("nd,pd->np", hidden["Wb0"], silu(x), precision=jax.lax.Precision.HIGHEST)
        spl = jnp.einsum("ndi,pdi->np", hidden["C0"], self.basis(x), precision=jax.lax.Precision.HIGHEST)
        return base + spl

    def features(self, hidden, x):
        z = self.preactivation(hidden, x)
        return silu(z) + jnp.einsum("ni,npi->np", hidden["C1"], self.basis(z), precision=jax.lax.Precision.HIGHEST)

    # ---- the infinite-width kernel ------------------------------------------------------
    def input_features(self, x):
        """F(x): (P, d (1 + grid + order)), so that Cov(z(x), z(x')) = F(x) . F(x') (NumPy in,
        NumPy out)."""
        xp = np if isinstance(x, np.ndarray) else jnp
        p = x.shape[0]
        sbase, sspline = (_concrete(s) for s in (self.sbase, self.sspline)) if xp is np else (self.sbase, self.sspline)
        f_base = sbase * silu(x)
        f_spl = sspline * self.basis(x).reshape(p, -1)
        return xp.concatenate([f_base, f_spl], axis=1) / math.sqrt(self.d)

    def preactivation_cov(self, x):
        f = self.input_features(jnp.asarray(x))
        return jnp.matmul(f, f.T, precision=jax.lax.Precision.HIGHEST)

    def neuron_dual(self, a, c, b, nodes: int = KERNEL_NODES):
        """E[h(x) h(x')] for one neuron with pre-activation covariance [[a, c], [c, b]] (scalars)."""
        a, c, b = (jnp.reshape(jnp.asarray(t), (1,)) for t in (a, c, b))
        return _dual_matrix(a, c[:, None], b, self.bound, self.sspline, self.grid, self.order, nodes)[0, 0]

    def kernel(self, x1, x2):
        f1, f2 = self.input_features(jnp.asarray(x1)), self.input_features(jnp.asarray(x2))
        a1 = jnp.sum(f1 * f1, axis=1)
        a2 = jnp.sum(f2 * f2, axis=1)
        c = jnp.matmul(f1, f2.T, precision=jax.lax.Precision.HIGHEST)
        dual = _dual_matrix(a1, c, a2, self.bound, self.sspline, self.grid, self.order, KERNEL_NODES)
        return self.sw**2 * dual

    # ---- exact neuron moments (finite-width cumulants) ------------------------------------
    def neuron_moment(self, x):
        if x.shape[0] == 2:
            c = self.preactivation_cov(x)
            return self.neuron_dual(c[0, 0], c[0, 1], c[1, 1])
        return _tensor_moment(self, np.asarray(x, np.float64), MOMENT_BUDGET)

    def neuron_moment_error(self, x):
        """The difference from the same rule with half the nodes per axis (a generous bound:
        the spline part is C^(order - 1), so the rule converges algebraically)."""
        if x.shape[0] == 2:
            c = self.preactivation_cov(x)
            full = self.neuron_dual(c[0, 0], c[0, 1], c[1, 1])
            half = self.neuron_dual(c[0, 0], c[0, 1], c[1, 1], nodes=KERNEL_NODES // 2)
            return float(abs(full - half))
        x = np.asarray(x, np.float64)
        f = self.input_features(x)
        r = _rank(f @ f.T)
        n = _nodes_per_axis(MOMENT_BUDGET, r)
        coarse = _tensor_moment(self, x, (n // 2) ** r)
        return float(abs(_tensor_moment(self, x, MOMENT_BUDGET) - coarse))


@functools.partial(jax.jit, static_argnames=("grid", "order", "nodes"))
def _dual_matrix(a1, c, a2, bound, sspline, grid: int, order: int, nodes: int):
    """E[h(x_p) h(x'_q)] for every pair: pre-activation variances a1 (P1,), a2 (P2,), covariance
    c (P1, P2). A `nodes`^2 Gauss-Hermite rule on u, then v given u, averaged with the rule
    taken the other way round (v, then u) so the matrix is exactly symmetric; the conditional
    standard deviation has a finite gradient at coincident points (c^2 = a b)."""
    z, w = (jnp.asarray(t, c.dtype) for t in hermite_nodes(nodes))

    def one(a, c, b):
        sa = jnp.sqrt(jnp.maximum(a, 1e-300))
        r = c / sa
        q = b - r * r
        s = jnp.where(q > 0, jnp.sqrt(jnp.where(q > 0, q, 1.0)), 0.0)
        u = sa * z
        v = r * z[:, None] + s * z[None, :]
        base = jnp.einsum("i,j,i,ij->", w, w, silu(u), silu(v))
        bu, bv = bspline_basis(u, grid, order, bound), bspline_basis(v, grid, order, bound)
        return base + sspline**2 * jnp.einsum("i,j,ik,ijk->", w, w, bu, bv)

    def row(t):
        a, crow = t
        return jax.vmap(lambda cc, b: 0.5 * (one(a, cc, b) + one(b, cc, a)))(crow, a2)

    if c.shape[0] * c.shape[1] <= 256:  # small: one vectorised evaluation (quicker to compile)
        return jax.vmap(row)((a1, c))
    return jax.lax.map(row, (a1, c))  # large: row by row (bounded memory)


def _rank(cov) -> int:
    lam = np.maximum(np.linalg.eigvalsh(cov), 0.0)
    return max(1, int(np.sum(lam > 1e-12 * (lam.max() + 1e-300))))


def _nodes_per_axis(budget: int, r: int) -> int:
    return int(min(200, max(8, math.floor(budget ** (1.0 / r) + 1e-9))))


def _tensor_moment(arch: KAN, x: np.ndarray, budget: int) -> float:
    """E[prod_k h(x_k)] over one neuron: z ~ N(0, Kz) by a tensor Gauss-Hermite rule over the
    range of Kz; given z, h_k = silu(z_k) + C1 . B(z_k) is Gaussian (mean silu(z_k), covariance
    sspline^2 B(z_k) . B(z_l)), whose product moment follows from Stein's identity."""
    key = (arch, x.tobytes(), x.shape, budget)
    if key not in _MOMENTS:
        f = arch.input_features(x)
        cov = f @ f.T
        lam, vec = np.linalg.eigh(cov)
        r = _rank(cov)
        lam, vec = np.maximum(lam[-r:], 0.0), vec[:, -r:]
        n = _nodes_per_axis(budget, r)
        z1, w1 = hermite_nodes(n)
        pts = np.stack([g.ravel() for g in np.meshgrid(*([z1] * r), indexing="ij")], axis=1)
        wts = np.prod(np.meshgrid(*([w1] * r), indexing="ij"), axis=0).ravel()
        z = pts @ (vec * np.sqrt(lam)).T  # (M, K)
        # concrete floats keep the rule in NumPy (JAX scalars made every op an eager JAX call,
        # compiled anew for each node count: 40 s for KAN's 35 four-point tuples)
        val = _weighted_moment(z, wts, _concrete(arch.bound), _concrete(arch.sspline), arch.grid, arch.order)
        if len(_MOMENTS) > 4096:
            _MOMENTS.clear()
        _MOMENTS[key] = float(val)
    return _MOMENTS[key]


_MOMENTS: dict = {}


def _weighted_moment(z, wts, bound, sspline, grid: int, order: int):
    """sum_m wts_m E[prod_k (m_k + g_k) | z_m] with m = silu(z), g ~ N(0, S), S_kl = sspline^2
    B(z_k) . B(z_l): Stein's identity E[X_k prod_rest] = m_k E[prod_rest] + sum_l S_kl
    E[prod_(rest - l)], memoised over index tuples."""
    m = silu(z)
    bz = bspline_basis(z, grid, order, bound)
    s = sspline**2 * np.einsum("mki,mli->mkl", bz, bz)
    memo: dict[tuple[int, ...], np.ndarray] = {(): np.ones(z.shape[0])}

    def e(idx: tuple[int, ...]):
        if idx not in memo:
            k, rest = idx[0], idx[1:]
            out = m[:, k] * e(rest)
            for j, l in enumerate(rest):
                out = out + s[:, k, l] * e(rest[:j] + rest[j + 1 :])
            memo[idx] = out
        return memo[idx]

    return float(np.sum(wts * e(tuple(range(z.shape[1])))))
