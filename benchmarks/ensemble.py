#!/usr/bin/env python3
"""Ensemble throughput: nnft_ppl's streaming sampler beside the plain-JAX reference.

Same work: ErfNet, width 1000, 6 points in d = 1, 200k networks, moments up to order 4.
Both run in this one process run (the reference as a subprocess, same interpreter),
compilation excluded from both, `--repeats` times; medians and the ratio are printed.
Then: time for the neuron-level estimator to reach the network-level G4c standard error.

Usage: python benchmarks/ensemble.py [--nets 200000] [--width 1000] [--repeats 3] [--cached-reference] [--out DIR]
(writes DIR/ensemble.json, default benchmarks/results)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _clock  # prints compile time apart from run time at exit; `split()` for the JSON
import numpy as np

import nnft_ppl as nn
from nnft_ppl.ensemble import ensemble_correlators, neuron_correlators

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("NNFT_REFERENCE", ROOT.parent / "shared" / "bench" / "reference_vmap.py"))


def run_reference(width, nets, act="erf", chunk_elems=None) -> float:
    extra = [] if chunk_elems is None else ["--chunk-elems", str(chunk_elems)]
    out = subprocess.run(
        [sys.executable, str(REFERENCE), "--act", act, "--width", str(width), "--points", "6", "--nets", str(nets)]
        + extra,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"nets_per_s=([0-9.e+]+)", out).group(1))


def run_ours(arch, x, nets, dtype="float32", key=0):
    """nets/s of one run (its step compiled beforehand, by `main`), and its Dataset."""
    t = time.perf_counter()
    ds = ensemble_correlators(arch, x, nets, key=key, max_order=4, dtype=dtype, progress=False)
    return nets / (time.perf_counter() - t), ds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", type=int, default=200_000)
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-neuron", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument(
        "--cached-reference",
        action="store_true",
        help="also run the reference with cache-sized chunks (--chunk-elems 2**21): its default chunk "
        "(2**24 activations, 67 MB) is bound by memory traffic",
    )
    a = ap.parse_args()
    x = np.linspace(-1.0, 1.0, 6)[:, None]
    arch = nn.ErfNet(width=a.width)
    ours, ref, cached = [], [], []
    # compile once, on the very run size timed: the chunk (and so the compiled step) depends on n_nets
    # (a 4,096-network warm-up compiled a smaller chunk, and the first timed repeat compiled its own)
    ensemble_correlators(arch, x, a.nets, key=a.repeats, max_order=4, dtype="float32", progress=False)
    ds = None
    for r in range(a.repeats):
        rate, ds = run_ours(arch, x, a.nets, key=r)
        ours.append(rate)
        ref.append(run_reference(a.width, a.nets))
        line = f"repeat {r}: nnft_ppl {ours[-1]:,.0f} nets/s   reference_vmap {ref[-1]:,.0f} nets/s"
        if a.cached_reference:
            cached.append(run_reference(a.width, a.nets, chunk_elems=2**21))
            line += f"   reference_vmap, cache-sized chunks {cached[-1]:,.0f} nets/s"
        print(line, flush=True)
    mo, mr = statistics.median(ours), statistics.median(ref)
    print(
        f"ensemble ErfNet width={a.width} points=6 nets={a.nets}: nnft_ppl median {mo:,.0f} nets/s, "
        f"reference median {mr:,.0f} nets/s, ratio {mo / mr:.2f}x (target >= 3x, issue 16)"
    )
    if cached:
        mc = statistics.median(cached)
        print(f"reference with cache-sized chunks: median {mc:,.0f} nets/s, ratio {mo / mc:.2f}x")
    doc = {"width": a.width, "points": 6, "nets": a.nets, "repeats": a.repeats, "nnft_ppl_nets_per_s": ours}
    doc |= {"reference_nets_per_s": ref, "ratio": mo / mr, "target_ratio": 3.0}
    if cached:
        doc |= {"reference_cache_sized_nets_per_s": cached, "ratio_cache_sized": mo / statistics.median(cached)}
    if not a.skip_neuron:
        doc["neuron_level"] = neuron_speedup(arch, x, ds, a.nets / mo, a.nets)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "ensemble.json").write_text(json.dumps(doc | _clock.split(), indent=1))


def neuron_speedup(arch, x, ds, t_net: float, nets: int) -> dict:
    """Time for the neuron-level estimator to reach the network-level G4c standard error at this width."""
    net_se = float(np.median(ds.G4c_se.values))
    n_neur = 16 * (4 + 1)  # the smallest run the estimator accepts at order 4 (a jackknife error bar)
    neuron_correlators(arch, x, n_neur, key=1, max_order=4, progress=False)  # compile
    times = []
    for key in range(2, 7):  # a run this short is mostly fixed cost: the median of five
        t = time.perf_counter()
        dn = neuron_correlators(arch, x, n_neur, key=key, max_order=4, progress=False)
        times.append(time.perf_counter() - t)
    t_neu = statistics.median(times)
    neu_se = float(np.median(dn.G4c_se.values[0]))
    # the SEs are honest only where the summands' tails are light (k-hat <= 0.5, `nn.khat_flag`)
    khat = {"network": float(ds.G4c_khat), "neuron": float(dn.G4c_khat)}
    print(
        f"G4c SE (median entry): network level {net_se:.3e} from {nets} nets in {t_net:.2f} s "
        f"(k-hat {khat['network']:.2f}, {nn.khat_flag(khat['network'])}); neuron level {neu_se:.3e} from "
        f"{n_neur} neurons in {t_neu:.3f} s (k-hat {khat['neuron']:.2f}, {nn.khat_flag(khat['neuron'])})"
    )
    need = n_neur * max(1.0, (neu_se / net_se) ** 2)
    speedup = t_net / (t_neu * need / n_neur)
    if neu_se <= net_se:
        print(
            f"the neuron level's smallest run already beats the network-level SE ({net_se / neu_se:.3g}x smaller): "
            f"at least {speedup:.3g}x less time (target >= 100x)"
        )
    else:
        print(
            f"neuron level needs ~{need:,.0f} neurons, {t_neu * need / n_neur:.3g} s: "
            f"{speedup:.3g}x less time (target >= 100x)"
        )
    out = {"network_se": net_se, "neuron_se": neu_se, "neurons": n_neur, "neuron_s": t_neu, "time_ratio": speedup}
    return out | {"network_G4c_khat": khat["network"], "neuron_G4c_khat": khat["neuron"]}


if __name__ == "__main__":
    main()
