"""Geometry and NNGP recursion of circular-padded convolutions (used by `ConvNet`).

Locations of a 1-D signal (S,) or a 2-D image (H, W) are flattened row-major to one axis of
length S (= H W). A filter of `f` taps per axis is the table `taps` of shape (k, S), k = f^ndim:
`taps[t, s]` is the location that tap t of the filter centred at s reads, wrapped circularly.

The kernel state is `_recursion.KernelState` over (point, location) pairs (pair index p S + s):
a convolution layer is `_recursion.dense` (the activation's dual, weights and bias) followed by
`conv_average`, the average over the filter's taps of the shifted (location, location) covariance
(Novak et al., arXiv:1810.05148, eq. 7; Garriga-Alonso et al., arXiv:1808.05587, eq. 6).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._activations import elementwise_dual, get_activation
from ._recursion import KernelState, dense, input_layer


def tap_table(spatial: tuple[int, ...], filter_size: int) -> Int[np.ndarray, "k S"]:
    """Location read by each tap of a centred, circularly padded filter at each location."""
    offsets = np.arange(filter_size) - filter_size // 2
    grids = np.meshgrid(*[np.arange(n) for n in spatial], indexing="ij")
    rows = []
    for off in itertools.product(offsets, repeat=len(spatial)):
        shifted = [(g + o) % n for g, o, n in zip(grids, off, spatial, strict=True)]
        rows.append(np.ravel_multi_index(tuple(shifted), spatial).ravel())
    return np.stack(rows)


def patches(x: Float[Array, "P S"], taps: Int[np.ndarray, "k S"]) -> Float[Array, "PS k"]:
    """The filter's input at every (point, location) pair: row p S + s holds x[p, taps[:, s]]."""
    p, s = x.shape
    return jnp.transpose(x[:, taps], (0, 2, 1)).reshape(p * s, taps.shape[0])


def conv_average(state: KernelState, taps: Int[np.ndarray, "k S"], p1: int, p2: int) -> KernelState:
    """K'(x s, y s') = (1/k) sum_t K(x taps[t, s], y taps[t, s']): the covariance after a
    convolution whose k taps carry i.i.d. weights of variance 1/k (the scales are in `dense`)."""
    k, s = taps.shape
    a1 = state.a1.reshape(p1, s)[:, taps].mean(axis=1).reshape(-1)
    a2 = state.a2.reshape(p2, s)[:, taps].mean(axis=1).reshape(-1)
    c = state.c.reshape(p1, s, p2, s)
    acc = sum(c[:, t][:, :, :, t] for t in taps) / k
    return KernelState(a1, acc.reshape(p1 * s, p2 * s), a2)


@functools.partial(jax.jit, static_argnames=("spatial", "filter_size", "activation", "depth", "readout"))
def conv_kernel(
    x1: Float[Array, "P1 S"],
    x2: Float[Array, "P2 S"],
    sw,
    sb,
    *,
    spatial: tuple[int, ...],
    filter_size: int,
    activation: str | Callable,
    depth: int,
    readout: str,
) -> Float[Array, "P1 P2"]:
    """NNGP kernel of `depth` convolution layers on the grid `spatial` (each followed by
    `activation`, through its Gaussian dual) and a linear readout: global average pooling
    (`"gap"`: the mean over all location pairs) or dense (`"dense"`: the mean over coincident
    locations). Compiled once per structure (the static arguments) and shapes."""
    taps = tap_table(spatial, filter_size)
    dual = elementwise_dual(get_activation(activation))
    p1, p2, s = x1.shape[0], x2.shape[0], x1.shape[1]
    state = input_layer(patches(x1, taps), patches(x2, taps), sw, sb)  # W0 ~ N(0, sw^2 / k), 1 channel in
    for _ in range(depth - 1):
        state = conv_average(dense(state, dual, sw, sb), taps, p1, p2)
    c = dense(state, dual, sw, sb).c.reshape(p1, s, p2, s)  # the readout's sb^2 + sw^2 E[sigma sigma']
    if readout == "gap":
        return c.mean(axis=(1, 3))
    return jnp.einsum("psqs->pq", c) / s
