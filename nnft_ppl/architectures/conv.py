"""ConvNet: circular-padded convolutions over 1-D signals or 2-D images, channels -> infinity."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _validate as V
from .._errors import NNFTError
from ._activations import Activation, get_activation
from ._base import Architecture, normal
from ._conv_kernel import conv_kernel, patches, tap_table

_HP = jax.lax.Precision.HIGHEST
READOUTS = ("gap", "dense")


def _as_shape(shape) -> tuple[int, ...] | None:
    """`shape` as a tuple of positive ints (1-D signal or 2-D image), or None."""
    if shape is None:
        return None
    try:
        out = tuple(shape)
    except TypeError:
        raise NNFTError(f"shape must be a sequence of 1 or 2 positive integers, got {shape!r}") from None
    if len(out) not in (1, 2):
        raise NNFTError(f"shape must have 1 (signal) or 2 (image) entries, got {shape!r}")
    return tuple(V.field_integer("shape", n) for n in out)


class ConvNet(Architecture):
    """`depth` circular-padded convolution layers of `width` channels, then a linear readout.

    The input is one channel on a grid: a signal of length S = d (`shape=None` or `(S,)`), or an
    image `shape=(H, W)` flattened row-major, x[p, h W + w], so that d = H W. A layer is
    z^{l+1}_c(s) = b^l_c + sum_{c', t} W^l_{c c' t} sigma(z^l_{c'}(s + t)) over the `filter_size`
    (per axis) taps t centred at s, indices wrapped circularly; z^1 reads x itself.
    W^l ~ N(0, sw^2 / (C_in k)) with k = filter_size^ndim taps, b ~ N(0, sb^2).

    Readout (`readout`): `"gap"` (default) is global average pooling,
    phi = b + sum_c w_c mean_s sigma(z_c(s)), w ~ N(0, sw^2 / C): with circular padding each
    network is exactly invariant under cyclic shifts of its input, the inductive bias a
    convolution is for, and the kernel needs the full (location, location) covariance.
    `"dense"` is phi = b + sum_{c, s} w_{cs} sigma(z_c(s)), w ~ N(0, sw^2 / (C S)): its kernel
    uses only coincident locations (Novak et al., arXiv:1810.05148: equal to a locally
    connected network's) and is invariant only under joint shifts of both inputs.

    The NNGP kernel (channels -> infinity) is the layer recursion of `_recursion` over
    (point, location) pairs, with the tap average of `_conv_kernel.conv_average` between layers
    (Garriga-Alonso et al., arXiv:1808.05587; Novak et al., arXiv:1810.05148). With one layer the
    channels are i.i.d., so G2 equals the kernel at any width; deeper nets have an O(1/C)
    correction. `width` is the number of channels C (`channels` reads it): the N of NN-FT.
    """

    width: int = 64
    depth: int = 1
    filter_size: int = 3
    activation: str | Callable = eqx.field(default="relu", static=True)
    readout: str = eqx.field(default="gap", static=True)
    d: int = 1
    shape: tuple[int, ...] | None = eqx.field(default=None, static=True, converter=_as_shape)
    sw: float = 1.0
    sb: float = 1.0
    zoo_test_params = {"width": 3}

    def __check_init__(self):
        V.field_integer("width", self.width)
        V.field_integer("depth", self.depth)
        V.field_integer("filter_size", self.filter_size)
        V.field_integer("d", self.d)
        V.positive("sw", self.sw)
        V.positive("sb", self.sb)
        get_activation(self.activation)
        if self.readout not in READOUTS:
            raise NNFTError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.shape is not None and math.prod(self.shape) != self.d:
            raise NNFTError(
                f"shape {self.shape} has {math.prod(self.shape)} locations but d = {self.d}; "
                "an image (H, W) is flattened to d = H * W"
            )

    # ---- geometry ---------------------------------------------------------------------
    @property
    def channels(self) -> int:
        """The number of channels per layer (the width)."""
        return self.width

    @property
    def spatial(self) -> tuple[int, ...]:
        """The grid of locations: (S,) for signals, (H, W) for images."""
        return self.shape if self.shape is not None else (self.d,)

    @property
    def taps(self) -> np.ndarray:
        """(k, S) table: the location read by each filter tap at each location (circular)."""
        return tap_table(self.spatial, self.filter_size)

    @property
    def exact_two_point(self) -> bool:  # type: ignore[override]
        return self.depth == 1

    @property
    def act(self) -> Activation:
        return get_activation(self.activation)

    # ---- the network ------------------------------------------------------------------
    def model(self, x, dtype):
        k, c = self.taps.shape[0], self.width
        theta = {}
        c_in = 1
        for layer in range(self.depth):
            std = self.sw / math.sqrt(c_in * k)
            theta[f"W{layer}"] = numpyro.sample(f"W{layer}", normal(dtype, std).expand([c, c_in, k]).to_event(3))
            theta[f"b{layer}"] = numpyro.sample(f"b{layer}", normal(dtype, self.sb).expand([c]).to_event(1))
            c_in = c
        out_shape, fan_in = ([c], c) if self.readout == "gap" else ([c, self.d], c * self.d)
        w_out = normal(dtype, self.sw / math.sqrt(fan_in)).expand(out_shape).to_event(len(out_shape))
        theta["W_out"] = numpyro.sample("W_out", w_out)
        theta["b_out"] = numpyro.sample("b_out", normal(dtype, self.sb))
        if x is None:
            return None
        return numpyro.deterministic("phi", self.forward(theta, jnp.asarray(x, dtype)))

    def forward(self, theta, x):
        taps = self.taps
        h = x[:, None, :]  # (P, C_in = 1, S)
        for layer in range(self.depth):
            z = jnp.einsum("oct,pcts->pos", theta[f"W{layer}"], h[:, :, taps], precision=_HP)
            h = self.act.fn(z + theta[f"b{layer}"][None, :, None])
        if self.readout == "gap":
            return jnp.einsum("c,pc->p", theta["W_out"], h.mean(axis=2), precision=_HP) + theta["b_out"]
        return jnp.einsum("cs,pcs->p", theta["W_out"], h, precision=_HP) + theta["b_out"]

    def kernel(self, x1, x2):
        """The layer recursion over (point, location) pairs (`_conv_kernel.conv_kernel`)."""
        return conv_kernel(
            jnp.asarray(x1),
            jnp.asarray(x2),
            self.sw,
            self.sb,
            spatial=self.spatial,
            filter_size=self.filter_size,
            activation=self.activation,
            depth=self.depth,
            readout=self.readout,
        )

    # ---- an exact, faster sampler -----------------------------------------------------
    def sample_fields(self, keys: PRNGKeyArray, x: Float[Array, "P d"], dtype=jnp.float64) -> Float[Array, "M P"]:
        """phi at `x` for one network per key. With more channels than (point, location) pairs
        the layers are drawn collapsed: given layer l, the C channels of layer l + 1 at the P S
        pairs are i.i.d. Gaussian with covariance sb^2 + sw^2/(C k) sum_t H_t H_t^T, drawn
        through that (P S)-dimensional covariance (exact in distribution); likewise the readout."""
        x = jnp.asarray(self.points(x), dtype)
        m = x.shape[0] * x.shape[1]
        if self.width <= m or m > 96:
            return super().sample_fields(keys, x, dtype)
        return jax.vmap(lambda k: self.collapsed_field(k, x))(keys)

    def collapsed_field(self, key: PRNGKeyArray, x: Float[Array, "P d"]) -> Float[Array, " P"]:
        """One network's phi at `x` by the collapsed draw of `sample_fields` (any width)."""
        taps, c = self.taps, self.width
        (p, s), k = x.shape, taps.shape[0]
        keys = jax.random.split(key, self.depth + 1)
        feats = patches(x, taps)  # (P S, k): the first layer's input, one channel
        cov = self.sb**2 + self.sw**2 * jnp.matmul(feats, feats.T, precision=_HP) / k
        for layer in range(self.depth):
            z = _psd_sqrt(cov) @ jax.random.normal(keys[layer], (p * s, c), x.dtype)
            h = self.act.fn(z).reshape(p, s, c)
            if layer + 1 < self.depth:
                ht = h[:, taps, :]  # (P, k, S, C)
                gram = jnp.einsum("ptsc,qtuc->psqu", ht, ht, precision=_HP).reshape(p * s, p * s)
                cov = self.sb**2 + self.sw**2 * gram / (c * k)
        if self.readout == "gap":
            f = h.mean(axis=1)
            cov = self.sb**2 + self.sw**2 * jnp.matmul(f, f.T, precision=_HP) / c
        else:
            f = h.reshape(p, s * c)
            cov = self.sb**2 + self.sw**2 * jnp.matmul(f, f.T, precision=_HP) / (c * s)
        return _psd_sqrt(cov) @ jax.random.normal(keys[-1], (p,), x.dtype)


def _psd_sqrt(a: Float[Array, "M M"]) -> Float[Array, "M M"]:
    """A factor L with L L^T = a for a positive semi-definite a (eigh; rank-deficient allowed)."""
    lam, vec = jnp.linalg.eigh(0.5 * (a + a.T))
    return vec * jnp.sqrt(jnp.maximum(lam, 0.0))[None, :]
