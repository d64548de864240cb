#!/usr/bin/env python3
"""Where one ensemble step's time goes: nnft_ppl's sampler beside the reference's step, at one chunk size.

The anchor work (ErfNet, width 1000, 6 points in d = 1, float32 draws), one chunk of networks each way:
- `reference step`: `reference_vmap.py`'s step (3N normals, the activations, the readout, the sums), with
  its chunk set to this one (its default chunk is 8x larger and bound by memory traffic);
- `nnft_ppl sample_fields`: the architecture's sampler (2N normals, the activations, the P x P Gram matrix
  and its factorisation, P normals), then the same sums in float64;
- the floor of the collapsed sampler: 2N normals, and 2N normals with the N x P activations.

Interleaved repeats in one process, compilation excluded; medians and the ratios to the reference step.

Usage: python benchmarks/ensemble_anatomy.py [--chunk 349] [--width 1000] [--repeats 9] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import _clock
import jax
import jax.numpy as jnp
import numpy as np

import nnft_ppl as nn

ROOT = Path(__file__).resolve().parent.parent
P = 6


def reference_step(m: int, n: int, x):
    """`reference_vmap.py`'s step, float32, for a chunk of m networks."""

    def step(key, acc):
        k0, k1, k2, k3 = jax.random.split(key, 4)
        w0 = jax.random.normal(k0, (m, n, 1))
        b0 = jax.random.normal(k1, (m, n))
        w1 = jax.random.normal(k2, (m, n)) / jnp.sqrt(n)
        b1 = jax.random.normal(k3, (m,))
        h = jax.scipy.special.erf(jnp.einsum("mnd,pd->mnp", w0, x) + b0[:, :, None])
        phi = jnp.einsum("mn,mnp->mp", w1, h) + b1[:, None]
        phi2 = (phi[:, :, None] * phi[:, None, :]).reshape(m, P * P)
        s1, s2, s4 = acc
        return s1 + phi.sum(0), s2 + phi.T @ phi, s4 + phi2.T @ phi2

    acc = (jnp.zeros(P), jnp.zeros((P, P)), jnp.zeros((P * P, P * P)))
    f = jax.jit(step)
    return lambda key: f(key, acc)


def collapsed_pieces(arch, m: int, n: int, x):
    """nnft_ppl's sampler and sums, and the floor of its draws and activations (float64 sums need x64)."""
    xs = np.asarray(x, np.float32)

    @jax.jit
    def sampler(key):
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(m, dtype=jnp.uint32))
        phi = arch.sample_fields(keys, xs, np.dtype("float32")).astype(jnp.float64)
        phi2 = (phi[:, :, None] * phi[:, None, :]).reshape(m, P * P)
        return phi.sum(0), phi.T @ phi, phi2.T @ phi2

    @jax.jit
    def normals(key):
        return jax.random.normal(key, (2, m, n), jnp.float32).sum(-1)

    @jax.jit
    def normals_activations(key):
        g = jax.random.normal(key, (2, m, n), jnp.float32)
        return jax.scipy.special.erf(g[0][:, None, :] * xs[None, :, 0, None] + g[1][:, None, :]).sum(-1)

    def x64(f):
        def run(key):
            with jax.enable_x64(True):
                return f(key)

        return run

    return {
        "nnft_ppl sample_fields + sums": x64(sampler),
        "floor: 2N normals": normals,
        "floor: 2N normals + NP activations": normals_activations,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", type=int, default=349, help="networks a step (the reference's 2**21 activations)")
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    a = ap.parse_args()
    m, n = a.chunk, a.width
    x = jnp.linspace(-1.0, 1.0, P, dtype=jnp.float32)[:, None]
    runs = {"reference step": reference_step(m, n, x), **collapsed_pieces(nn.ErfNet(width=n), m, n, x)}
    key = jax.random.PRNGKey(0)
    for f in runs.values():
        jax.block_until_ready(f(key))  # compile
    times = {name: [] for name in runs}
    for _ in range(a.repeats):
        for name, f in runs.items():
            t = time.perf_counter()
            for _ in range(10):
                out = f(key)
            jax.block_until_ready(out)
            times[name].append((time.perf_counter() - t) / 10)
    med = {name: statistics.median(v) for name, v in times.items()}
    ref = med["reference step"]
    print(f"ErfNet width={n} points={P}, {m} networks a step, medians of {a.repeats} interleaved repeats:")
    for name, s in med.items():
        print(f"  {name:36s} {s * 1e3:7.2f} ms  {m / s:10,.0f} nets/s  {ref / s:5.2f}x the reference step")
    rows = {name: {"ms": s * 1e3, "nets_per_s": m / s, "vs_reference": ref / s} for name, s in med.items()}
    Path(a.out).mkdir(parents=True, exist_ok=True)
    doc = {"chunk": m, "width": n, "points": P, "repeats": a.repeats, "rows": rows, **_clock.split()}
    (Path(a.out) / "ensemble_anatomy.json").write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
