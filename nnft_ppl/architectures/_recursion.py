"""The NNGP kernel recursion, one layer at a time (neural-tangents' `serial` of `kernel_fn`s).

A kernel state is the triple (a1, c, a2): the pre-activation variances at the points x1
and x2 and their cross-covariance. `input_layer` makes the first state from the inputs;
`dense` maps a state through one hidden layer, K' = sb^2 + sw^2 dual(a, c, b), where dual
is an activation's Gaussian dual acting elementwise. Single-layer networks are one `dense`
step, `DeepMLP` is `depth` of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


class KernelState(NamedTuple):
    a1: Float[Array, " P1"]
    c: Float[Array, "P1 P2"]
    a2: Float[Array, " P2"]


def input_layer(x1: Float[Array, "P1 d"], x2: Float[Array, "P2 d"], sw, sb) -> KernelState:
    """Pre-activation covariances of W x + b with W ~ N(0, sw^2/d), b ~ N(0, sb^2)."""
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    d = x1.shape[1]
    if d > 8:
        dot = jnp.matmul(x1, x2.T, precision=jax.lax.Precision.HIGHEST)
    else:  # short contractions elementwise (a length-d batched dot is slow on CPU)
        dot = sum(x1[:, None, k] * x2[None, :, k] for k in range(d))
    sb2, sw2 = sb**2, sw**2
    return KernelState(
        sb2 + sw2 * jnp.sum(x1 * x1, axis=1) / d, sb2 + sw2 * dot / d, sb2 + sw2 * jnp.sum(x2 * x2, axis=1) / d
    )


def dense(state: KernelState, dual: Callable, sw, sb) -> KernelState:
    """One hidden layer with weights N(0, sw^2 / fan-in) and biases N(0, sb^2) after `dual`'s activation."""
    a1, c, a2 = state
    sb2, sw2 = sb**2, sw**2
    return KernelState(
        sb2 + sw2 * dual(a1, a1, a1), sb2 + sw2 * dual(a1[:, None], c, a2[None, :]), sb2 + sw2 * dual(a2, a2, a2)
    )


def serial_kernel(x1, x2, dual: Callable, sw, sb, depth: int) -> Float[Array, "P1 P2"]:
    """The NNGP kernel of `depth` hidden layers: `input_layer`, then `dense` `depth` times."""
    state = input_layer(x1, x2, sw, sb)
    for _ in range(depth):
        state = dense(state, dual, sw, sb)
    return state.c


def ntk_dense(state: KernelState, ntk, dual: Callable, ddual: Callable, sw, sb) -> tuple[KernelState, Array]:
    """One hidden layer of the NTK recursion (NTK parametrisation, Jacot et al. 2018):
    Theta' = K' + sw^2 Kdot(K) Theta, with Kdot = `ddual`, E[sigma'(u) sigma'(v)] under the
    pre-activation state, and K' = `dense(state)`."""
    kdot = ddual(state.a1[:, None], state.c, state.a2[None, :])
    new = dense(state, dual, sw, sb)
    return new, new.c + sw**2 * kdot * ntk


def serial_ntk(x1, x2, dual: Callable, ddual: Callable, sw, sb, depth: int) -> Float[Array, "P1 P2"]:
    """The infinite-width NTK of `depth` hidden layers: Theta^0 = K^0 (the input layer), then
    `ntk_dense` `depth` times."""
    state = input_layer(x1, x2, sw, sb)
    ntk = state.c
    for _ in range(depth):
        state, ntk = ntk_dense(state, ntk, dual, ddual, sw, sb)
    return ntk
