"""Post-processing cost of the full-tensor estimates (independent of n_nets): moments, unbiased
k-statistics with jackknife replicas and the expansion to full symmetric tensors, at P points
and order r, from synthetic block sums.

    python benchmarks/postprocess.py [--points 15] [--order 6] [--blocks 64] [--profile]

Prints the wall time (median of --repeats, +- half the range) of `moments_dataset`; run it on
two checkouts for a before/after comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

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
    return MomentSums(basis, sums, counts, None, khat)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=15)
    ap.add_argument("--order", type=int, default=6)
    ap.add_argument("--blocks", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    ms = synthetic_sums(args.points, args.order, args.blocks)
    print(f"basis: {ms.basis.size} monomials ({time.perf_counter() - t0:.1f} s to build)")
    x = np.linspace(-1, 1, args.points)[:, None]
    times = []
    for _ in range(args.repeats):
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


if __name__ == "__main__":
    main()
