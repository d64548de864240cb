"""Calibration of `nnft_ppl._tails.lognormal_khat`: the measured Pareto k-hat of n lognormal
draws exp(s Z) against the prediction, for s in 0.5..8 and n in 1e3..1e6.

    python benchmarks/khat_calibration.py [--reps 8]

Prints mean measured k-hat +- its standard error over replicates, and the prediction.
"""

from __future__ import annotations

import argparse

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

from nnft_ppl._tails import keep_size, khat_of_top, lognormal_khat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{'n':>8} {'log_sd':>6} {'measured k':>18} {'predicted':>9}")
    for n in (1_000, 10_000, 100_000, 1_000_000):
        for s in (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0):
            ks = []
            for _ in range(args.reps):
                top = np.sort(rng.standard_normal(n))[-keep_size(n) :][None]
                ks.append(khat_of_top(np.exp(s * top), n)[0])
            m, se = np.mean(ks), np.std(ks, ddof=1) / np.sqrt(len(ks))
            print(f"{n:>8} {s:>6.1f} {m:>9.3f} +- {se:.3f} {float(lognormal_khat(s, n)):>9.3f}")


if __name__ == "__main__":
    main()
