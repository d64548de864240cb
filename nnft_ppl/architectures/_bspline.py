"""Uniform B-spline bases on a fixed grid, the edge functions of Kolmogorov-Arnold networks.

The grid splits [-bound, bound] into `grid` equal intervals of width h = 2 bound / grid and is
extended by `order` knots on each side (the convention of Liu et al., arXiv:2404.19756), so
the knots are t_m = -bound + (m - order) h, m = 0 .. grid + 2 order, and there are
grid + order basis functions B_i of degree `order`. They are non-negative, sum to one on
[-bound, bound], taper to zero over the `order` extra intervals on each side and vanish
beyond t_0 and t_{grid + 2 order}: outside the extended grid a KAN edge function is its
silu base alone. Cubic B-splines (order 3) are twice continuously differentiable.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def n_basis(grid: int, order: int) -> int:
    """Number of B-spline basis functions on `grid` intervals at degree `order`."""
    return grid + order


def bspline_basis(x: Float[Array, "*batch"], grid: int, order: int, bound) -> Float[Array, "*batch B"]:
    """B_i(x), i = 0 .. grid + order - 1, on the extended uniform grid (see the module text);
    differentiable in `x` and in `bound` (Cox-de Boor on the knot-index coordinate)."""
    if isinstance(x, np.ndarray) and not isinstance(bound, jax.Array):  # NumPy in, NumPy out
        return _basis(np, x, grid, order, bound)
    return _compiled_basis(jnp.asarray(x), grid, order, bound)


def _basis(xp, x, grid: int, order: int, bound):
    x = xp.asarray(x)
    h = 2.0 * bound / grid
    u = (x + bound) / h + order  # knot-index coordinate: knot m sits at u = m
    m = xp.arange(grid + 2 * order, dtype=u.dtype)
    uu = u[..., None]
    b = ((uu >= m) & (uu < m + 1)).astype(u.dtype)  # degree 0: grid + 2 order pieces
    for p in range(1, order + 1):
        mm = m[: b.shape[-1] - 1]
        b = ((uu - mm) * b[..., :-1] + (mm + p + 1 - uu) * b[..., 1:]) / p
    return b


#: the JAX path as one compiled program per shape (outside `jit`, one compilation instead of one per primitive)
_compiled_basis = jax.jit(functools.partial(_basis, jnp), static_argnums=(1, 2))


def spline(
    coef: Float[Array, "*batch B"], x: Float[Array, "*batch"], grid: int, order: int, bound
) -> Float[Array, "*batch"]:
    """sum_i coef_i B_i(x), the coefficients broadcast against x's shape."""
    return jnp.sum(coef * bspline_basis(jnp.asarray(x), grid, order, bound), axis=-1)


def silu(x):
    """x sigmoid(x), the KAN edge function's base (NumPy in, NumPy out)."""
    if isinstance(x, np.ndarray):
        return x / (1.0 + np.exp(-x))
    return jax.nn.silu(x)
