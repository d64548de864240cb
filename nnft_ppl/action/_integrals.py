"""The local-vertex integral I_t(Lambda) = integral_{[-Lambda, Lambda]^d} prod_i K(x_{t_i}, z) d^dz.

The cutoff region is the cube |z_k| < Lambda (the ball in d = 1). The rule is composite
Gauss-Legendre: `nnft_ppl.deform.make_quadrature` on each panel, panels of width <= `h` over the
core |z| <= max|x| + `pad` (where the kernels vary) and geometrically growing panels (ratio <= 2)
outwards to Lambda, so the same rule stays accurate from Lambda ~ 1 to Lambda ~ 1e6. A closed form
for kernels b^2 + c exp(-a |x - z|^2) (GaussNet, CosNet) checks it.
"""

from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
import numpy as np

from .._errors import NNFTError
from .._x64 import float64
from ..architectures import Architecture, CosNet, GaussNet, SharedScaleNet
from ..deform import Quadrature, make_quadrature


def check_cutoff(cutoff, x: np.ndarray, name: str = "cutoff") -> float:
    """A finite Lambda > 0 whose box [-Lambda, Lambda]^d contains every point of x."""
    try:
        lam = float(cutoff)
    except (TypeError, ValueError):
        raise NNFTError(f"{name} must be a positive number, got {cutoff!r}") from None
    if not math.isfinite(lam) or lam <= 0:
        raise NNFTError(f"{name} must be finite and > 0, got {cutoff!r}")
    reach = float(np.max(np.abs(x))) if x.size else 0.0
    if reach >= lam:
        raise NNFTError(f"{name}: the box [-{lam:g}, {lam:g}]^d does not contain the points (max |x_k| = {reach:g})")
    return lam


def _panel_edges(lo_core: float, cutoff: float, h: float) -> np.ndarray:
    core = min(lo_core, cutoff)
    n_core = max(1, math.ceil(2 * core / h))
    edges = list(np.linspace(-core, core, n_core + 1))
    outer, e = [], core
    while e < cutoff:
        e = min(2 * e, cutoff, e + max(h, e))
        outer.append(e)
    return np.array(sorted({*edges, *outer, *(-o for o in outer)}))


def cutoff_quadrature(x: np.ndarray, cutoff: float, n: int = 16, h: float = 0.5, pad: float = 8.0) -> Quadrature:
    """Composite Gauss-Legendre rule on [-cutoff, cutoff]^d (d = x.shape[1] <= 2), `n` nodes per
    panel; panels of width <= h within max|x| + pad of the origin, doubling beyond."""
    x = np.asarray(x, np.float64)
    d = x.shape[1]
    if d > 2:
        raise NNFTError(f"x: the cutoff integral is implemented for d <= 2 (tensor-product rule), got d = {d}")
    lam = check_cutoff(cutoff, x)
    edges = _panel_edges(float(np.max(np.abs(x))) + pad, lam, h)
    rules = [make_quadrature((lo, hi), n) for lo, hi in itertools.pairwise(edges)]
    z1 = np.concatenate([r.points[:, 0] for r in rules])
    w1 = np.concatenate([r.weights for r in rules])
    pts = np.array(list(itertools.product(z1, repeat=d)), np.float64).reshape(-1, d)
    wts = np.prod(np.array(list(itertools.product(w1, repeat=d)), np.float64).reshape(-1, d), axis=1)
    return Quadrature(pts, wts, "composite gauss-legendre", ((-lam, lam),) * d, int(n))


_BUCKET = 2048


@float64
def kernel_to(arch: Architecture, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """K(x, z) as float64 (P, Q), z padded to a multiple of 2048 rows so that one kernel
    compilation serves every cutoff and quadrature."""
    q = z.shape[0]
    size = _BUCKET * -(-q // _BUCKET)
    zz = np.zeros((size, z.shape[1]))
    zz[:q] = z
    return np.asarray(arch.nngp_kernel(jnp.asarray(x), jnp.asarray(zz)), np.float64)[:, :q]


@float64
def vertex_integrals(arch: Architecture, x: np.ndarray, tuples: np.ndarray, quad: Quadrature) -> np.ndarray:
    """I_t = sum_q w_q prod_i K(x_{t_i}, z_q) for each index tuple t (rows of `tuples`): (T,)."""
    kxz = kernel_to(arch, x, quad.points)  # (P, Q)
    tuples = np.asarray(tuples, np.int64)
    out = np.empty(tuples.shape[0])
    for lo in range(0, tuples.shape[0], 256):
        t = tuples[lo : lo + 256]
        prod = np.prod(kxz[t], axis=1)  # (t, Q)
        out[lo : lo + 256] = prod @ quad.weights
    return out


def gaussian_kernel_form(arch: Architecture) -> tuple[float, float, float]:
    """(b2, c, a) with K(x, z) = b2 + c exp(-a |x - z|^2) for GaussNet and CosNet (and architectures
    SharedScaleNet, whose kernel is its CosNet's)."""
    base = arch.base if isinstance(arch, SharedScaleNet) else arch
    if isinstance(base, GaussNet):
        return base.sb**2, base.sw**2, base.sw**2 / (2 * base.d)
    if isinstance(base, CosNet):
        return 0.0, base.sa**2 / 2, base.sw**2 / (2 * base.d)
    raise NNFTError(f"arch: {arch.name}'s kernel is not of the form b^2 + c exp(-a |x - z|^2)")


def _gauss_box(points: np.ndarray, a: float, cutoff: float) -> float:
    """integral_{[-L, L]^d} prod_i exp(-a |x_i - z|^2) dz (points (k, d), k >= 1), per dimension."""
    k = points.shape[0]
    m = points.mean(0)
    spread = np.sum((points - m) ** 2, axis=0)  # per dimension
    big_a = a * k
    root = math.sqrt(big_a)
    out = 1.0
    for j in range(points.shape[1]):
        box = 0.5 * math.sqrt(math.pi / big_a) * (math.erf(root * (cutoff - m[j])) + math.erf(root * (cutoff + m[j])))
        out *= math.exp(-a * spread[j]) * box
    return out


def gaussian_vertex_integral(arch: Architecture, x: np.ndarray, tuples, cutoff: float) -> np.ndarray:
    """Closed form of I_t(cutoff) for K = b2 + c exp(-a |x - z|^2) (GaussNet, CosNet): the product
    expands over subsets S of the legs, each a Gaussian integral over the cube (erf per dimension)."""
    b2, c, a = gaussian_kernel_form(arch)
    x = arch.check_points(x)
    lam = check_cutoff(cutoff, x)
    d = x.shape[1]
    out = []
    for t in np.asarray(tuples, np.int64):
        total = 0.0
        for size in range(len(t) + 1):
            for sub in itertools.combinations(range(len(t)), size):
                coef = b2 ** (len(t) - size) * c**size
                if coef == 0.0:
                    continue
                total += coef * ((2 * lam) ** d if size == 0 else _gauss_box(x[list(t[list(sub)])], a, lam))
        out.append(total)
    return np.asarray(out)
