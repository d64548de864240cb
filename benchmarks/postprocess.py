"""Post-processing cost of the full-tensor estimates (independent of n_nets): moments, unbiased
k-statistics with jackknife replicas and the expansion to full symmetric tensors, at P points
and order r, from synthetic block sums.

    python benchmarks/postprocess.py [--points 15] [--order 6] [--blocks 64] [--profile] [--before REV]

Prints the wall time (median of --repeats, +- half the range) of `moments_dataset`. `--before REV`
also times the library as of git revision REV (`git archive` into a temporary folder, run there in
a subprocess with the same arguments) and prints the speed-up; e.g. `--before e991682` (before the
post-processing work of issue 12 item 7).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

from nnft_ppl.ensemble import MomentSums, MonomialBasis
from nnft_ppl.ensemble._network import moments_dataset


def synthetic_sums(p: int, order: int, blocks: int, seed: int = 0) -> MomentSums:
    """Block sums of every monomial of p Gaussian fields (exact in distribution, cheaply faked:
    each block's sum is its mean times its count plus noise; the values do not matter for timing)."""
    basis = MonomialBasis.full(p, order)
    rng = np.random.default_rng(seed)
    counts = np.full(blocks, 1000, np.int64)
    sums = rng.normal(1.0, 0.1, (blocks, basis.size)) * counts[:, None]
    khat = {r: 0.0 for r in range(1, order + 1)}
    fields = (basis, sums, counts, None, khat)
    return MomentSums(*fields[: len(MomentSums._fields)])  # older revisions: (basis, sums, counts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=15)
    ap.add_argument("--order", type=int, default=6)
    ap.add_argument("--blocks", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--before", metavar="REV", help="also time the library at this git revision")
    args = ap.parse_args()
    after = measure(args)
    if args.before:
        before = measure_revision(args)
        ratio = before[0] / after[0]
        err = ratio * np.hypot(before[1] / before[0], after[1] / after[0])
        print(f"before ({args.before}): {before[0]:.2f} s +- {before[1]:.2f} s; speed-up {ratio:.1f}x +- {err:.1f}x")


def measure(args) -> tuple[float, float]:
    """Median and half-range of the wall time of `moments_dataset` over `args.repeats` runs."""
    try:
        from nnft_ppl import _tensors
    except ImportError:  # revisions before the module existed
        _tensors = None
    t0 = time.perf_counter()
    ms = synthetic_sums(args.points, args.order, args.blocks)
    print(f"basis: {ms.basis.size} monomials ({time.perf_counter() - t0:.1f} s to build)")
    x = np.linspace(-1, 1, args.points)[:, None]
    times = []
    for _ in range(args.repeats):
        cold = getattr(_tensors, "_default_lookup", None)  # every repeat as a fresh process: no cached lookup
        if hasattr(cold, "cache_clear"):
            cold.cache_clear()
        t0 = time.perf_counter()
        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(moments_dataset, ms, x, {}, None, args.order)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(18)
        else:
            moments_dataset(ms, x, {}, None, args.order)
        times.append(time.perf_counter() - t0)
    t = np.asarray(times)
    half = (t.max() - t.min()) / 2
    print(f"P={args.points} order={args.order} blocks={args.blocks}: {np.median(t):.2f} s +- {half:.2f} s")
    return float(np.median(t)), float(half)


def measure_revision(args) -> tuple[float, float]:
    """Run this script on the library as of `args.before` (a `git archive` in a temporary folder)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        git = ["git", "-C", str(root), "archive", args.before, "nnft_ppl"]
        archive = subprocess.run(git, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        cmd = [sys.executable, __file__, "--points", str(args.points), "--order", str(args.order)]
        cmd += ["--blocks", str(args.blocks), "--repeats", str(args.repeats)]
        env = {**os.environ, "PYTHONPATH": tmp}
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=tmp).stdout
    print(f"[{args.before}] " + out.strip().replace("\n", f"\n[{args.before}] "))
    median, half = re.search(r": ([0-9.]+) s \+- ([0-9.]+) s", out.splitlines()[-1]).groups()
    return float(median), float(half)


if __name__ == "__main__":
    main()
