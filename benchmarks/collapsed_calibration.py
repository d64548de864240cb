"""Calibration over seeds of the readout-integrated estimator (`ensemble_correlators(..., collapse=True)`),
beside the sampled-readout one on the same seeds: for G2, G4c and G6c (smeared over the points: the sum
over every tensor entry, as `benchmarks/calibration.py`) of every zoo entry with exact cumulants and a
Gaussian readout, over `seeds` replicas of `n` networks with a 32-block jackknife each: the coverage of
the 95% intervals (estimate +- t_{0.975, 31} SE against `theory.exact_connected`) with its binomial error,
mean z^2 (honest: 31/29 = 1.07), P(|z| > 3) and the median k-hat.

    PYTHONPATH=. python benchmarks/collapsed_calibration.py [seeds] [n]
Writes benchmarks/results/collapsed_calibration.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import jax
import numpy as np
from scipy import stats

from nnft_ppl._tensors import sorted_tuples
from nnft_ppl.architectures import LinearReadout
from nnft_ppl.ensemble import cumulants, ensemble_correlators, tensor_sum
from nnft_ppl.theory import exact_connected
from nnft_ppl.width_scaling._calibration import zoo_entries

X = np.array([-0.5, 0.5])
BLOCKS = 32


def replica(arch, n: int, key: int, collapse: bool) -> dict:
    _, ms = ensemble_correlators(
        arch, X, n, key=key, max_order=6, n_blocks=BLOCKS, progress=False, return_sums=True, collapse=collapse
    )
    out = {}
    for r in (2, 4, 6):
        tl = sorted_tuples(len(X), r)
        est = tensor_sum(cumulants(ms, tl), tl)
        out[r] = (float(est.value), float(est.se), float(ms.khat[r]))
    return out


def main(seeds: int = 200, n: int = 4096) -> list[dict]:
    jax.config.update("jax_enable_x64", True)
    q = stats.t.ppf(0.975, BLOCKS - 1)
    rows = []
    for name, arch in zoo_entries(3).items():
        if not isinstance(arch, LinearReadout):
            continue
        exact = {r: float(np.sum(exact_connected(arch, X, r))) for r in (2, 4, 6)}
        for collapse in (True, False):
            t0 = time.perf_counter()
            reps = [replica(arch, n, 7_000 + s, collapse) for s in range(seeds)]
            for r in (2, 4, 6):
                z = np.array([(v[r][0] - exact[r]) / v[r][1] for v in reps])
                cov = float(np.mean(np.abs(z) <= q))
                row = {
                    "entry": name,
                    "estimator": "collapsed" if collapse else "network",
                    "order": r,
                    "seeds": seeds,
                    "n": n,
                    "coverage": cov,
                    "coverage_se": float(np.sqrt(0.95 * 0.05 / seeds)),
                    "mean_z2": float(np.mean(z**2)),
                    "mean_z2_se": float(np.std(z**2, ddof=1) / np.sqrt(seeds)),
                    "p_abs_z_gt_3": float(np.mean(np.abs(z) > 3)),
                    "khat_median": float(np.median([v[r][2] for v in reps])),
                    "median_se": float(np.median([v[r][1] for v in reps])),
                    "elapsed_s": time.perf_counter() - t0,
                }
                rows.append(row)
                print(
                    f"{name:>14} {row['estimator']:>9} G{r}{'c' if r > 2 else ' '} coverage {cov:.3f} "
                    f"({(cov - 0.95) / row['coverage_se']:+.1f} SE) mean z^2 {row['mean_z2']:.2f} "
                    f"± {row['mean_z2_se']:.2f} P(|z|>3) {row['p_abs_z_gt_3']:.3f} k-hat {row['khat_median']:.2f} "
                    f"median SE {row['median_se']:.3g}",
                    flush=True,
                )
    path = Path(__file__).parent / "results" / "collapsed_calibration.json"
    path.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
