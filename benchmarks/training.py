#!/usr/bin/env python3
"""Ensemble training throughput: M networks in one compiled scan beside a Python loop over single
networks with the same optax optimiser (target >= 20x at M = 256).

ErfNet (NTK parametrisation), 8 training points in d = 1, `--steps` SGD steps. Ours: `ensemble_trainer`
+ `run` (vmap over networks, one lax.scan). Plain: one jit-compiled single-network step (the same loss and
optax update), called in a Python loop over networks and steps. Compilation excluded from both; median of
`--repeats`; network-steps per second and the ratio printed; the last line is the JSON summary.

Usage: python benchmarks/training.py [--nets 256] [--width 256] [--steps 200] [--repeats 3]
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
import numpy as np
import optax

import nnft_ppl as nn
from nnft_ppl.dynamics import Parametrized, ensemble_trainer, run


def clocks() -> np.ndarray:
    """(wall, CPU) seconds: the CPU time of the process (all threads) is the steadier figure on a loaded machine."""
    return np.array([time.perf_counter(), time.process_time()])


def rates(n: int, times: list) -> np.ndarray:
    """Network-steps per second by the median wall and CPU time of the repeats."""
    return n / np.array([statistics.median(t[i] for t in times) for i in range(2)])


def ours(model, xt, yt, nets, steps, lr, repeats):
    tr = ensemble_trainer(model, xt, yt, "sgd", lr, jnp.float32)
    state = tr.init(0, nets)
    times = []
    for r in range(repeats + 1):  # the first run compiles
        t = clocks()
        s, rec = run(tr, state, xt, 1, steps, record_ntk=False)
        jax.block_until_ready(rec.phi)
        if r:
            times.append(clocks() - t)
    return rates(nets * steps, times), np.asarray(rec.loss[-1])


def plain(model, xt, yt, nets, steps, lr, repeats):
    tx = optax.sgd(lr)
    x, y = jnp.asarray(xt, jnp.float32), jnp.asarray(yt, jnp.float32)

    def loss(p):
        r = model.apply(p, x) - y
        return 0.5 * jnp.sum(r * r)

    @jax.jit
    def step(p, o):
        g = jax.grad(loss)(p)
        u, o = tx.update(g, o, p)
        return optax.apply_updates(p, u), o

    keys = jax.random.split(jax.random.key(0), nets)
    params = [model.sample_theta(k, jnp.float32) for k in keys]
    jax.block_until_ready(step(params[0], tx.init(params[0])))  # compile
    times = []
    for _ in range(repeats):
        t = clocks()
        for p in params:
            o = tx.init(p)
            for _ in range(steps):
                p, o = step(p, o)
        jax.block_until_ready(p)
        times.append(clocks() - t)
    return rates(nets * steps, times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", type=int, default=256)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    model = Parametrized(nn.ErfNet(width=a.width), "ntk")
    xt = np.linspace(-1.0, 1.0, 8)
    yt = np.sin(2 * xt)
    lr = 0.05
    r_ours, final = ours(model, xt, yt, a.nets, a.steps, lr, a.repeats)
    r_plain = plain(model, xt, yt, a.nets, a.steps, lr, a.repeats)
    for i, clock in enumerate(("wall", "CPU")):
        print(
            f"[training] ErfNet width {a.width}, M = {a.nets}, {a.steps} SGD steps (float32, by {clock} time): "
            f"ensemble scan {r_ours[i]:,.0f} network-steps/s, Python loop {r_plain[i]:,.0f} network-steps/s, "
            f"ratio {r_ours[i] / r_plain[i]:.1f}x (target >= 20x); final mean loss {final.mean():.3g}"
        )
    print(
        json.dumps(
            {
                "benchmark": "training",
                "cpus": os.cpu_count(),
                "device": jax.devices()[0].platform,
                "nets": a.nets,
                "width": a.width,
                "steps": a.steps,
                "ours_net_steps_per_s": r_ours[0],
                "plain_net_steps_per_s": r_plain[0],
                "ratio": r_ours[0] / r_plain[0],
                "ours_net_steps_per_cpu_s": r_ours[1],
                "plain_net_steps_per_cpu_s": r_plain[1],
                "ratio_cpu": r_ours[1] / r_plain[1],
            }
        )
    )


if __name__ == "__main__":
    main()
