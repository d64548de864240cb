"""First-order (one-vertex) Feynman diagrams of a polynomial deformation of a Gaussian ensemble.

With free propagator G and V = sum_k c_k phi^k integrated over the box, the first-order shift of
the connected n-point function is the single-vertex diagram with (k - n)/2 self-loops:

    dG_n^c(x_1..x_n) = - sum_k c_k k!/(k-n)! (k-n-1)!! integral d^dz G(z,z)^((k-n)/2) prod_i G(x_i, z),

for k >= n, k - n even. For V = lam phi^4/4! this is G4c = -lam integral G G G G and
dG2 = -(lam/2) integral G(x,z) G(z,z) G(z,y). The integrals use the same quadrature as S_int.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._errors import NNFTError
from ..architectures import Architecture, IIDNeuronArchitecture
from ._potentials import Potential
from ._quadrature import Quadrature

Points = Float[Array, "P d"]


def _double_factorial(n: int) -> int:
    return 1 if n <= 0 else math.prod(range(n, 0, -2))


def first_order(arch: Architecture, potential: Potential, quad: Quadrature, x: Points, n: int) -> np.ndarray:
    """The first-order shift of the connected n-point function, a (P,)*n tensor, using the
    architecture's NNGP kernel as the free propagator."""
    coeffs = potential.coefficients()
    if coeffs is None:
        raise NNFTError(f"potential {potential.describe()} is not polynomial: no Feynman rules")
    if n not in (1, 2, 3, 4):
        raise NNFTError(f"n must be 1, 2, 3 or 4, got {n!r}")
    x = arch.check_points(x)
    z = jnp.asarray(quad.points)
    gxz = np.asarray(arch.nngp_kernel(jnp.asarray(x), z))  # (P, Q)
    gzz = np.asarray(arch.nngp_kernel(z, z)).diagonal()  # (Q,)
    vertex = np.zeros_like(gzz)
    for k, ck in coeffs.items():
        if k >= n and (k - n) % 2 == 0 and ck != 0.0:
            m = k - n
            vertex = vertex + ck * math.factorial(k) / math.factorial(m) * _double_factorial(m - 1) * gzz ** (m // 2)
    letters = "abcd"[:n]
    legs = ",".join(f"{a}q" for a in letters)
    return -np.einsum(f"q,q,{legs}->{letters}", quad.weights, vertex, *([gxz] * n))


def first_order_g4c(arch, lam: float, quad: Quadrature, x) -> np.ndarray:
    """G4c(x1..x4) = -lam integral d^dz G(x1,z) G(x2,z) G(x3,z) G(x4,z) for V = lam phi^4/4!."""
    from ._potentials import Phi4

    return first_order(arch, Phi4(lam), quad, x, 4)


def first_order_dg2(arch, lam: float, quad: Quadrature, x) -> np.ndarray:
    """dG2(x,y) = -(lam/2) integral d^dz G(x,z) G(z,z) G(z,y) for V = lam phi^4/4!."""
    from ._potentials import Phi4

    return first_order(arch, Phi4(lam), quad, x, 2)


def base_connected4(arch: Architecture, x: Points) -> np.ndarray:
    """The base ensemble's own exact finite-width G4c (the 1/N part subtracted before comparing
    with the diagram): `nnft_ppl.theory.exact_connected`."""
    from ..theory import exact_connected

    return np.asarray(exact_connected(arch, x, order=4))


def first_order_phi2_exact(arch: Architecture, lam: float, quad: Quadrature, x: Points) -> np.ndarray:
    """The first-order shift of <phi(x)^2> for V = lam phi^4/4!, exact at finite width: (P,).

    d<phi_x^2>/dlam at 0 is -Cov(phi_x^2, S_int/lam) = -(1/24) sum_q w_q [12 G_xq^2 G_qq
    + 6 k4(x,x,q,q) G_qq + 8 k4(x,q,q,q) G_xq + k6(x,x,q,q,q,q)] with the base ensemble's exact
    connected k4 ~ 1/N, k6 ~ 1/N^2 (`nnft_ppl.theory.exact_connected`). The first term is
    `first_order_dg2`'s diagonal; the rest is the finite-width vertex correction."""
    from ..theory import exact_connected_at

    x = arch.check_points(x)
    if not isinstance(arch, IIDNeuronArchitecture):
        raise NNFTError(f"arch: no exact finite-width cumulants for {type(arch).__name__}")
    # the points x_i and the nodes z_q together; every (i, q) term's cumulants in one call per order
    p, zq = x.shape[0], np.asarray(quad.points, np.float64)
    pts = np.concatenate([np.asarray(x, np.float64), zq])
    i, q = (a.ravel() for a in np.meshgrid(np.arange(p), p + np.arange(zq.shape[0]), indexing="ij"))
    k4 = {
        name: exact_connected_at(arch, pts, np.stack(cols, axis=1))[0]
        for name, cols in (("xxqq", (i, i, q, q)), ("xqqq", (i, q, q, q)))
    }
    k6 = exact_connected_at(arch, pts, np.stack((i, i, q, q, q, q), axis=1))[0]
    g = np.asarray(arch.nngp_kernel(pts, pts))
    gxq, gqq = g[i, q], g[q, q]
    v = 12 * gxq**2 * gqq + 6 * k4["xxqq"] * gqq + 8 * k4["xqqq"] * gxq + k6
    w = np.asarray(quad.weights, np.float64)[q - p]
    return lam * -np.bincount(i, weights=w * v / 24, minlength=p)
