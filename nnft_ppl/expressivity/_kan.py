"""Trainable Kolmogorov-Arnold networks (Liu et al., arXiv:2404.19756): layers of learnable
one-dimensional edge functions phi_oi(t) = wb_oi silu(t) + ws_oi sum_k c_oik B_k(t) on a fixed,
extended B-spline grid (`nnft_ppl.architectures._bspline`); node o of the next layer is
sum_i phi_oi(x_i). Initialised as in the paper: c ~ N(0, noise^2), ws = 1, wb ~ N(0, 1 / fan-in).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jaxtyping import Array, Float

from .._errors import NNFTError
from .._keys import as_key
from ..architectures._bspline import bspline_basis, n_basis, silu
from . import _train


class KANSpec(NamedTuple):
    """Layer widths [d, ..., 1], B-spline `grid` intervals on [-bound, bound] and degree `order`."""

    widths: tuple[int, ...] = (2, 2, 1)
    grid: int = 5
    order: int = 3
    bound: float = 1.0
    noise: float = 0.1

    def check(self) -> KANSpec:
        if len(self.widths) < 2 or any(not isinstance(w, int) or w < 1 for w in self.widths) or self.widths[-1] != 1:
            raise NNFTError(f"widths: expected positive integers [d, ..., 1], got {self.widths!r}")
        if not (isinstance(self.grid, int) and self.grid >= 1 and isinstance(self.order, int) and self.order >= 1):
            raise NNFTError(f"grid: grid and order must be positive integers, got {self.grid!r}, {self.order!r}")
        if not self.bound > 0:
            raise NNFTError(f"bound: must be positive, got {self.bound!r}")
        return self


def kan_init(spec: KANSpec, key) -> list[dict[str, Array]]:
    """One network's parameters: per layer wb, ws (out, in) and c (out, in, grid + order)."""
    spec = spec.check()
    keys = jax.random.split(as_key(key), len(spec.widths) - 1)
    nb = n_basis(spec.grid, spec.order)
    layers = []
    for k, (n_in, n_out) in zip(keys, zip(spec.widths[:-1], spec.widths[1:], strict=True), strict=True):
        k1, k2 = jax.random.split(k)
        layers.append(
            {
                "wb": jax.random.normal(k1, (n_out, n_in), jnp.float64) / math.sqrt(n_in),
                "ws": jnp.ones((n_out, n_in), jnp.float64),
                "c": spec.noise * jax.random.normal(k2, (n_out, n_in, nb), jnp.float64),
            }
        )
    return layers


def edge_functions(spec: KANSpec, layer: dict[str, Array], t: Float[Array, " T"]) -> Float[Array, "O I T"]:
    """phi_oi(t) for every edge of one layer on the 1-D points t."""
    return _edge_functions(spec, layer, jnp.asarray(t))


@functools.partial(jax.jit, static_argnums=0)  # one compile instead of each op's eager dispatch
def _edge_functions(spec: KANSpec, layer: dict[str, Array], t: Float[Array, " T"]) -> Float[Array, "O I T"]:
    basis = bspline_basis(jnp.asarray(t), spec.grid, spec.order, spec.bound)  # (T, nb)
    spl = jnp.einsum("oik,tk->oit", layer["c"], basis)
    return layer["wb"][..., None] * silu(jnp.asarray(t))[None, None, :] + layer["ws"][..., None] * spl


def kan_apply(spec: KANSpec, params: list[dict[str, Array]], x: Float[Array, "P d"]) -> Float[Array, " P"]:
    """The network on points x (P, d)."""
    h = jnp.asarray(x)
    for layer in params:
        basis = bspline_basis(h, spec.grid, spec.order, spec.bound)  # (P, in, nb)
        spl = jnp.einsum("oi,oik,pik->po", layer["ws"], layer["c"], basis)
        h = silu(h) @ layer["wb"].T + spl
    return h[:, 0]


def train_kan(
    spec: KANSpec,
    x: Float[Array, "P d"],
    y: Float[Array, " P"],
    key=0,
    n_nets: int = 4,
    steps: int = 2000,
    learning_rate: float = 1e-2,
    optimizer: str = "adam",
):
    """Train `n_nets` KANs from independent initialisations at once (full-batch MSE, optax).
    Returns the trained parameters (leaves with a leading axis n_nets) and the loss histories."""
    spec = spec.check()
    x = jnp.asarray(x, jnp.float64)
    if x.ndim != 2 or x.shape[1] != spec.widths[0]:
        raise NNFTError(f"x: expected shape (P, {spec.widths[0]}), got {x.shape}")
    params = jax.vmap(lambda k: kan_init(spec, k))(jax.random.split(as_key(key), n_nets))
    opt = _train.make_optimizer(optimizer, learning_rate)
    return _train.fit(lambda p, xx: kan_apply(spec, p, xx), params, x, jnp.asarray(y, jnp.float64), opt, steps)


@functools.partial(jax.jit, static_argnums=0)
def _predict(spec: KANSpec, params, x: Float[Array, "P d"]) -> Float[Array, "M P"]:
    return jax.vmap(lambda p: kan_apply(spec, p, x))(params)


def rmse(spec: KANSpec, params, x, y) -> np.ndarray:
    """Root-mean-square error of each network of the ensemble `params` on (x, y): (M,)."""
    pred = _predict(spec, params, jnp.asarray(x))
    return np.sqrt(np.mean((np.asarray(pred) - np.asarray(y)[None]) ** 2, axis=1))


def plot_edges(spec: KANSpec, params, ax=None, n_points: int = 200) -> plt.Figure:
    """The learned edge functions of one network (parameters without the ensemble axis), one
    panel per layer, each edge phi_oi(t) on [-bound - margin, bound + margin]; returns the Figure
    (`ax`: a sequence of one Axes per layer, or None for a new figure)."""
    n_layers = len(params)
    if ax is None:
        fig, axes = plt.subplots(1, n_layers, figsize=(4 * n_layers, 3.2), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) != n_layers:
            raise NNFTError(f"ax: expected {n_layers} Axes (one per layer), got {len(axes)}")
        fig = axes[0].figure
    margin = 0.25 * spec.bound
    t = np.linspace(-spec.bound - margin, spec.bound + margin, n_points)
    for li, (a, layer) in enumerate(zip(axes, params, strict=True)):
        phi = np.asarray(edge_functions(spec, layer, jnp.asarray(t)))
        for o in range(phi.shape[0]):
            for i in range(phi.shape[1]):
                a.plot(t, phi[o, i], label=f"phi[{o},{i}]")
        a.axvspan(-spec.bound, spec.bound, color="0.92", zorder=0)
        a.set_title(f"layer {li}: {phi.shape[1]} -> {phi.shape[0]}")
        a.set_xlabel("t")
        if phi.size // n_points <= 8:
            a.legend(fontsize=7)
    axes[0].set_ylabel("edge function phi(t)")
    return fig
