#!/usr/bin/env python3
"""Empirical NTK of an ensemble: nnft_ppl's closed form beside `jax.jacrev` + contraction.

Part 1 (speed): ErfNet width 1000, d = 1, an ensemble of M networks at P points; both jit-compiled
(compilation excluded), `--repeats` times, medians and their ratio printed (target >= 5x).
Part 2 (memory): a size where the plain method needs more memory than this machine has: its need
(both Jacobians of every network at once) is computed and the run refused, while nnft_ppl's closed
form runs in network batches (`batch_size`) in bounded memory; the two agree on a subset.
The last line is the JSON summary.

Usage: python benchmarks/ntk.py [--width 1000] [--nets 64] [--points 32] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import jax
import jax.numpy as jnp

import nnft_ppl as nn
from nnft_ppl.dynamics import Parametrized, empirical_ntk, ntk_by_jacobian


def _time(fn, repeats):
    jax.block_until_ready(fn())  # compile
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def _ensemble(model, m, dtype):
    keys = jax.random.split(jax.random.key(0), m)
    return jax.vmap(lambda k: model.sample_theta(k, dtype))(keys)


def mem_available() -> int:
    with open("/proc/meminfo") as f:
        info = {ln.split(":")[0]: int(ln.split()[1]) * 1024 for ln in f}
    return info["MemAvailable"]


def speed(width, nets, points, repeats, dtype):
    model = Parametrized(nn.ErfNet(width=width), "ntk")
    theta = _ensemble(model, nets, dtype)
    x = jnp.linspace(-1.0, 1.0, points, dtype=dtype)[:, None]
    ours = jax.jit(lambda t: empirical_ntk(model, t, x, x))
    plain = jax.jit(lambda t: ntk_by_jacobian(model, t, x, x))
    err = float(jnp.max(jnp.abs(ours(theta) - plain(theta))) / jnp.max(jnp.abs(plain(theta))))
    t_ours, t_plain = _time(lambda: ours(theta), repeats), _time(lambda: plain(theta), repeats)
    return {
        "width": width,
        "nets": nets,
        "points": points,
        "ours_s": t_ours,
        "plain_s": t_plain,
        "ratio": t_plain / t_ours,
        "max_rel_diff": err,
    }


def memory(width, nets, points, batch, dtype):
    model = Parametrized(nn.ErfNet(width=width), "ntk")
    nbytes = jnp.dtype(dtype).itemsize
    n_par = 3 * width + 1
    plain_need = 2 * nets * points * n_par * nbytes  # both Jacobians of every network
    ours_need = batch * 4 * width * points * nbytes  # h and dh/dz at x1 and x2, per batch
    avail = mem_available()
    theta = _ensemble(model, nets, dtype)
    x = jnp.linspace(-1.0, 1.0, points, dtype=dtype)[:, None]
    t = time.perf_counter()
    k = jax.block_until_ready(empirical_ntk(model, theta, x, x, batch_size=batch))
    t_ours = time.perf_counter() - t
    sub = {s: v[:2] for s, v in theta.items()}  # the plain method on 2 networks: same values
    err = float(jnp.max(jnp.abs(k[:2] - ntk_by_jacobian(model, sub, x, x))) / jnp.max(jnp.abs(k[:2])))
    return {
        "width": width,
        "nets": nets,
        "points": points,
        "batch": batch,
        "plain_need_GB": plain_need / 1e9,
        "ours_need_GB": ours_need / 1e9,
        "mem_available_GB": avail / 1e9,
        "plain_refused": plain_need > avail,
        "ours_s": t_ours,
        "ours_finite": bool(jnp.all(jnp.isfinite(k))),
        "max_rel_diff_on_2": err,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--nets", type=int, default=64)
    ap.add_argument("--points", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--big-nets", type=int, default=2048)
    ap.add_argument("--big-points", type=int, default=16)
    ap.add_argument("--big-width", type=int, default=16000)
    ap.add_argument("--dtype", default="float32")
    a = ap.parse_args()
    dtype = nn.as_dtype(a.dtype)
    s = speed(a.width, a.nets, a.points, a.repeats, dtype)
    print(
        f"[speed] ErfNet width {s['width']}, {s['nets']} nets, {s['points']} points ({a.dtype}): "
        f"closed form {s['ours_s'] * 1e3:.2f} ms, jacrev+contraction {s['plain_s'] * 1e3:.2f} ms, "
        f"ratio {s['ratio']:.1f}x (target >= 5x); max rel diff {s['max_rel_diff']:.1e}"
    )
    m = memory(a.big_width, a.big_nets, a.big_points, 32, jnp.float64)
    print(
        f"[memory] width {m['width']}, {m['nets']} nets, {m['points']} points (float64): plain needs "
        f"{m['plain_need_GB']:.1f} GB > {m['mem_available_GB']:.1f} GB available: "
        f"{'refused (would run out of memory)' if m['plain_refused'] else 'NOT refused (machine has enough)'}; "
        f"closed form in batches of {m['batch']} needs {m['ours_need_GB']:.2f} GB and took {m['ours_s']:.1f} s "
        f"(finite: {m['ours_finite']}, max rel diff to jacrev on 2 nets {m['max_rel_diff_on_2']:.1e})"
    )
    print(
        json.dumps(
            {"benchmark": "ntk", "cpus": os.cpu_count(), "device": jax.devices()[0].platform, "speed": s, "memory": m}
        )
    )


if __name__ == "__main__":
    main()
