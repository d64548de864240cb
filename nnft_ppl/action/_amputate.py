"""The quartic vertex by amputation: G4c with the inverse propagator on every leg, on a grid.

With the points x as a grid (spacing-weights w_a, e.g. quadrature weights) and
G4c(x_a..x_d) = -sum_{efgh} w_e w_f w_g w_h K_ae K_bf K_cg K_dh V_efgh, the vertex is
V = -(W^-1 K^-1)^{(x)4} G4c. A local vertex lam delta(z1-z2) delta(z1-z3) delta(z1-z4) is diagonal on the grid,
V_eeee = lam / w_e^3, so the off-diagonal entries measure non-locality. K^-1 is a pseudo-inverse with
eigenvalues below `rcond` times the largest dropped (smooth kernels are ill-conditioned on fine grids).
Every jackknife replica of G4c is amputated, so the SEs come through the whole pipeline.

The sextic vertex (`amputate6`) is G6c minus its tree-level part, amputated on all six legs. At the order
of G6c the tree is built from the connected four-point functions joined by the inverse propagator
(the Edgeworth / Demirtas et al. construction, the connected correlators as vertices, arXiv:2307.03223):
for the finite-dimensional marginal on the grid this is the exact log-density's phi^6 coefficient.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from .._errors import NNFTError
from .._tensors import expand, sorted_tuples
from .._x64 import float64
from ..architectures import Architecture
from ..stats import jackknife_se
from ._correlators import Correlators
from ._integrals import kernel_to


class Vertex(NamedTuple):
    """The amputated quartic vertex V (P,)*4 on the grid, its replicas (B, P, P, P, P) and jackknife
    SE; `rank` the number of kernel eigenvalues kept."""

    x: np.ndarray
    value: np.ndarray
    replicas: np.ndarray
    se: np.ndarray
    rank: int


class Locality(NamedTuple):
    """r(s) = V(i,i,j,j) / V(i,i,i,i) averaged over the pairs at separation s (r(0) = 1; an exactly
    local vertex has r(s > 0) = 0), with jackknife SEs."""

    separation: np.ndarray
    ratio: np.ndarray
    ratio_se: np.ndarray


def _full_tensor(values: np.ndarray, p: int) -> np.ndarray:
    """Symmetric (..., P, P, P, P) tensor from values over sorted 4-tuples (..., T)."""
    out = np.zeros((*values.shape[:-1], p, p, p, p))

    for i, t in enumerate(sorted_tuples(p, 4)):
        for perm in set(itertools.permutations(t)):
            out[(..., *perm)] = values[..., i]
    return out


def _inverse_legs(corr: Correlators, arch: Architecture, weights, rcond: float, x):
    """The grid points, the eigen-truncated K^-1 on them the leg factor W^-1 K^-1 and the kept rank, after checking
    that the correlators belong to `arch` at those points and that `weights` and `rcond` are valid."""
    xs = corr.check_against(arch, x)
    p = xs.shape[0]
    w = np.ones(p) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (p,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise NNFTError(f"weights: expected {p} positive finite grid weights")
    if not (np.isfinite(rcond) and 0 < rcond < 1):
        raise NNFTError(f"rcond must be in (0, 1), got {rcond!r}")
    k = kernel_to(arch, xs, xs)
    ev, vec = np.linalg.eigh(0.5 * (k + k.T))
    keep = ev > rcond * ev.max()
    kinv = (vec[:, keep] / ev[keep]) @ vec[:, keep].T
    a = kinv / w[:, None]
    return xs, kinv, a, int(keep.sum())


@float64
def amputate(corr: Correlators, arch: Architecture, weights=None, *, rcond: float = 1e-10, x=None) -> Vertex:
    """The quartic vertex V = -(W^-1 K^-1)^{(x)4} G4c at the correlators' points (the grid), with
    grid weights `weights` (P,) (default 1) and kernel eigenvalues below `rcond` x the largest dropped."""
    xs, kinv, a, rank = _inverse_legs(corr, arch, weights, rcond, x)
    p = xs.shape[0]
    g4 = corr.connected_at(4)

    def amp(vals):
        t = _full_tensor(vals, p)
        return -np.einsum("ae,bf,cg,dh,...abcd->...efgh", a, a, a, a, t, optimize=True)

    reps = amp(g4.replicas)
    return Vertex(xs, amp(g4.value), reps, jackknife_se(reps), rank)


def locality(vertex: Vertex, decimals: int = 9) -> Locality:
    """The vertex's fall-off with separation: V(i,i,j,j) / V(i,i,i,i) averaged over the pairs at each
    separation |x_i - x_j| (rounded to `decimals`), jackknifed through the ratio."""
    xs = vertex.x
    dist = np.round(np.linalg.norm(xs[:, None] - xs[None], axis=-1), decimals)

    def ratios(v):
        diag = np.einsum("...iiii->...i", v)
        iijj = np.einsum("...iijj->...ij", v)
        return iijj / diag[..., :, None]

    r, rr = ratios(vertex.value), ratios(vertex.replicas)
    seps = np.unique(dist)
    mean = np.array([r[dist == s].mean() for s in seps])
    reps = np.stack([rr[:, dist == s].mean(-1) for s in seps], axis=1)
    return Locality(seps, mean, jackknife_se(reps))


_SPLITS6 = tuple((s, tuple(i for i in range(6) if i not in s)) for s in itertools.combinations(range(6), 3) if 0 in s)
_L6 = "abcdef"


def tree_from_g4c(g4: np.ndarray, kinv: np.ndarray) -> np.ndarray:
    """The tree-level six-point function of two quartic vertices on the grid, written with the
    connected four-point functions themselves (external legs included): sum over the 10 splits
    {abc}{def} of G4c(a,b,c,m) K^-1(m,n) G4c(d,e,f,n); `g4` (..., P, P, P, P) -> (..., P,)*6.
    (The vertex weights cancel: with G4c = -(KW)^{(x)4} V, the internal line W K W between two
    vertices meets (KW)^-1 on each side.)"""
    out = 0.0
    for a, b in _SPLITS6:
        left = "".join(_L6[i] for i in a) + "x"
        right = "".join(_L6[i] for i in b) + "y"
        out = out + np.einsum(f"...{left},xy,...{right}->...{_L6}", g4, kinv, g4, optimize=True)
    return out


@float64
def amputate6(corr: Correlators, arch: Architecture, weights=None, *, rcond: float = 1e-10, x=None) -> Vertex:
    """The sextic vertex V6 = -(W^-1 K^-1)^{(x)6} (G6c - tree) on the grid, where the tree is the
    O(V4^2) two-quartic-vertex part (`tree_from_g4c`): the action's phi^6 coupling at the order of
    G6c (1/N^2 for i.i.d. neurons), S = S_GP + (1/4!) sum W^4 V4 phi^4 + (1/6!) sum W^6 V6 phi^6.
    Every jackknife replica of G4c and G6c goes through the whole step (SEs through the pipeline)."""
    xs, kinv, a, rank = _inverse_legs(corr, arch, weights, rcond, x)
    p = xs.shape[0]
    g4, g6 = corr.connected_at(4), corr.connected_at(6)

    def amp(v4, v6):
        d = expand(v6, p, 6) - tree_from_g4c(expand(v4, p, 4), kinv)
        return -np.einsum("ag,bh,ci,dj,ek,fl,...abcdef->...ghijkl", a, a, a, a, a, a, d, optimize=True)

    reps = amp(g4.replicas, g6.replicas)
    return Vertex(xs, amp(g4.value, g6.value), reps, jackknife_se(reps), rank)
