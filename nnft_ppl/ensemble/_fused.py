"""Fused ensemble sampler for single-layer i.i.d.-neuron networks, as a Pallas kernel.

phi(x_p) = b1 + sum_n W1_n act(W0_n . x_p + b0_n) for a tile of networks: each network's
weights are generated inside the kernel from its key by a counter-based generator (Threefry-2x32,
20 rounds, in 32-bit integer operations: the key is the network's key data, the counter the
neuron index and a slot), turned into normals by Box-Muller, applied at every point and summed
over the width in registers, tile of neurons after tile: only phi (networks x points) leaves the
kernel, never the (networks x width x points) activations. The monomial sums of phi are then
reduced by the streaming estimator as for every other sampler.

The distribution is the architecture's own (W0 ~ N(0, sw^2/d), b0 ~ N(0, sb^2), W1 ~ N(0, sw^2/N),
b1 ~ N(0, sb^2)); the draws differ from `sample_fields`' (deterministic for a key, independent of
the chunk and device count). Box-Muller's uniform has 32-bit resolution, so a normal never exceeds
6.7 in size (a tail of probability 2e-11). On a GPU the kernel is compiled (Triton); elsewhere it
runs in Pallas' interpret mode (slow: for tests). The backend is Triton whatever the jax version
(`tests/test_fused.py` lowers the kernel for an H200 on a CPU machine, so a primitive Triton
lacks is found here, not on the device).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as pltriton

from .._errors import NNFTError
from ..architectures._single_layer_base import AbstractSingleLayer

#: networks per kernel program and neurons per inner step (powers of two, as Triton wants)
TILE_NETS = 64
TILE_NEURONS = 64
#: the (networks, neurons) tile shapes benchmarks/gpu.py times on a GPU; tests/test_fused.py lowers each
GPU_TILES = ((64, 64), (128, 32), (32, 128), (128, 64))
_ROT = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotl(v, r: int):
    return (v << jnp.uint32(r)) | (v >> jnp.uint32(32 - r))


def threefry2x32(k0, k1, c0, c1):
    """Threefry-2x32 with 20 rounds (Salmon et al. 2011) in uint32 operations: two random words."""
    k2 = k0 ^ k1 ^ jnp.uint32(0x1BD11BDA)
    ks = (k0, k1, k2)
    x0, x1 = c0 + k0, c1 + k1
    for g in range(5):
        for r in _ROT[g % 2]:
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0 = x0 + ks[(g + 1) % 3]
        x1 = x1 + ks[(g + 2) % 3] + jnp.uint32(g + 1)
    return x0, x1


def _normals(k0, k1, c0, slot: int, dtype):
    """Two independent standard normals per counter (Box-Muller)."""
    a, b = threefry2x32(k0, k1, c0, jnp.full_like(c0, slot))
    u1 = (a.astype(jnp.float32) + 1.0) * (1.0 / 4294967296.0)  # (0, 1]
    u2 = b.astype(jnp.float32) * (1.0 / 4294967296.0)
    r = jnp.sqrt(-2.0 * jnp.log(jnp.minimum(u1, 1.0))).astype(dtype)
    t = (2.0 * math.pi * u2).astype(dtype)
    return r * jnp.cos(t), r * jnp.sin(t)


#: erf(v) = v P(v^2) / Q(v^2) on [-4, 4], +-1 beyond (|erf(4) - 1| = 1.5e-8): the rational form of
#: Eigen's and XLA's float32 erf, highest power first; error 6.5e-8 in exact arithmetic, 4.4e-7 in
#: float32 (tests/test_fused.py). In the kernel because Pallas' Triton lowering has no erf primitive
_ERF_P = (
    -2.72614225801306e-10,
    2.77068142495902e-08,
    -2.10102402082508e-06,
    -5.69250639462346e-05,
    -7.34990630326855e-04,
    -2.95459980854025e-03,
    -1.60960333262415e-02,
)
_ERF_Q = (
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
)


def kernel_erf(v):
    """erf from multiplications and one division (Horner), for kernels without an erf primitive."""
    v = jnp.clip(v, -4.0, 4.0)
    v2 = v * v
    p, q = jnp.zeros_like(v), jnp.zeros_like(v)
    for c in _ERF_P:
        p = p * v2 + c
    for c in _ERF_Q:
        q = q * v2 + c
    return v * p / q


def _kernel_act(act):
    """The activation as the kernel computes it: erf by `kernel_erf`, every other as the architecture's."""
    return kernel_erf if act.name == "erf" else act.fn


def _kernel(k0_ref, k1_ref, out_ref, *, x, width, sw, sb, act, tile_neurons, dtype):
    """One tile of networks: phi at every point, transposed (P_pad, tile)."""
    k0 = k0_ref[...][:, None]
    k1 = k1_ref[...][:, None]
    p_n, d = len(x), len(x[0])
    n_slots = -(-(d + 2) // 2)

    def body(j, acc):
        idx = (j * tile_neurons + jax.lax.broadcasted_iota(jnp.int32, (1, tile_neurons), 1)).astype(jnp.uint32)
        idx = jnp.broadcast_to(idx, (k0.shape[0], tile_neurons))
        z = []
        for s in range(n_slots):
            z.extend(_normals(k0, k1, idx, s, dtype))
        w0 = [z[c] * (sw / math.sqrt(d)) for c in range(d)]
        b0, w1 = z[d] * sb, z[d + 1]
        w1 = jnp.where(idx < width, w1, 0.0)  # neurons past the width contribute nothing
        out = []
        for p in range(p_n):
            pre = b0
            for c in range(d):
                pre = pre + w0[c] * x[p][c]
            out.append(acc[p] + jnp.sum(w1 * act(pre), axis=1))
        return tuple(out)

    zero = jnp.zeros((k0.shape[0],), dtype)
    acc = jax.lax.fori_loop(0, -(-width // tile_neurons), body, tuple(zero for _ in range(p_n)))
    bias, _ = _normals(k0[:, 0], k1[:, 0], jnp.full(k0.shape[:1], 0xFFFFFFFF, jnp.uint32), 0, dtype)
    for p in range(p_n):
        out_ref[p, :] = acc[p] * (sw / math.sqrt(width)) + sb * bias
    for p in range(p_n, out_ref.shape[0]):
        out_ref[p, :] = zero


def _check(arch) -> None:
    base = AbstractSingleLayer
    ok = isinstance(arch, base) and all(
        getattr(type(arch), m) is getattr(base, m) for m in ("neuron_prior", "features", "preactivation", "model")
    )
    if not ok:
        raise NNFTError(
            f"engine: the fused sampler covers single-layer networks phi = b1 + W1 . act(W0 x + b0) "
            f"(ErfNet, ReLUNet, SingleLayer); {type(arch).__name__} is not one; use engine='jax'"
        )


def fused_sampler(arch, x, dtype, *, interpret: bool | None = None, tiles=None):
    """`keys (M,) -> phi (M, P)` for `arch` at points `x`, drawn by the fused kernel.

    `interpret` (default: on unless the backend is a GPU) runs the kernel in Pallas' interpreter;
    `tiles` = (networks, neurons) per step (default `TILE_NETS`, `TILE_NEURONS`)."""
    _check(arch)
    x = np.asarray(x, np.float64)
    xs = tuple(tuple(float(v) for v in row) for row in x)
    p_pad = 1 << max(0, (len(xs) - 1).bit_length())
    tm, tn = tiles or (TILE_NETS, TILE_NEURONS)
    tn = min(tn, 1 << max(0, (arch.width - 1).bit_length()))
    dtype = jnp.dtype(dtype)
    interpret = jax.default_backend() != "gpu" if interpret is None else interpret
    kern = _partial_kernel(xs, arch.width, float(arch.sw), float(arch.sb), _kernel_act(arch.act), tn, dtype)

    def sample(keys):
        kd = jax.random.key_data(keys).reshape(keys.shape[0], -1)
        if kd.shape[1] != 2:
            raise NNFTError("key: the fused sampler needs threefry keys (2 words)")
        m = kd.shape[0]
        t = min(tm, 1 << max(0, (m - 1).bit_length()))
        m_pad = -(-m // t) * t
        kd = jnp.pad(kd, ((0, m_pad - m), (0, 0)))
        out = pl.pallas_call(
            kern,
            out_shape=jax.ShapeDtypeStruct((p_pad, m_pad), dtype),
            grid=(m_pad // t,),
            in_specs=[pl.BlockSpec((t,), lambda i: (i,)), pl.BlockSpec((t,), lambda i: (i,))],
            out_specs=pl.BlockSpec((p_pad, t), lambda i: (0, i)),
            interpret=interpret,
            compiler_params=pltriton.CompilerParams(),  # Triton on every jax (0.10 defaults to Mosaic GPU)
        )(kd[:, 0], kd[:, 1])
        return out[: len(xs), :m].T

    return sample


def _partial_kernel(xs, width, sw, sb, act, tn, dtype):
    def kern(k0_ref, k1_ref, out_ref):
        _kernel(k0_ref, k1_ref, out_ref, x=xs, width=width, sw=sw, sb=sb, act=act, tile_neurons=tn, dtype=dtype)

    return kern
