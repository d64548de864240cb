"""The sextic vertex by amputation (issue 15, item 1): V6 = -(W^-1 K^-1)^{(x)6} (G6c - tree), the tree the
connected four-point functions joined by K^-1, on CosNet (exact G6c from theory) against Monte Carlo.

    PYTHONPATH=. python benchmarks/action_sextic.py [n_nets]

Prints, per width and grid: how many distinct V6 entries Monte Carlo resolves (> 4 SE), the largest
|z| of Monte Carlo against exact, the median relative SE and the 6th-order k-hat.
"""

from __future__ import annotations

import sys
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl as nn
from nnft_ppl import action as A
from nnft_ppl._tensors import sorted_tuple_array
from nnft_ppl.stats import se_threshold


def main(n_nets: int = 100_000) -> None:
    idx = tuple(sorted_tuple_array(4, 6).T)
    for spacing in (0.8, 1.6):
        xs = spacing * np.array([-1.5, -0.5, 0.5, 1.5])
        w = np.full(4, spacing)
        for width in (4, 8):
            t0 = time.time()
            arch = nn.CosNet(width=width)
            ex = A.amputate6(A.exact_correlators(arch, xs, orders=(4, 6), full=False), arch, w)
            mc_corr = A.measure(arch, xs, n_nets, key=11, orders=(4, 6), progress=False)
            mc = A.amputate6(mc_corr, arch, w)
            z = (mc.value[idx] - ex.value[idx]) / mc.se[idx]
            res = int(np.sum(np.abs(mc.value[idx]) > 4 * mc.se[idx]))
            rel = np.median(mc.se[idx] / np.abs(ex.value[idx]))
            thr = se_threshold(len(z), 4.0, mc_corr.n_blocks - 1)
            print(
                f"CosNet N={width}, grid spacing {spacing}, {n_nets} networks ({time.time() - t0:.0f} s): "
                f"{res}/{len(z)} V6 entries resolved, max |z| vs exact {np.max(np.abs(z)):.2f} "
                f"(threshold {thr:.2f}), median relative SE {rel:.2f}, k-hat 6 {mc_corr.khat[6]:.2f}, "
                f"max |V6| {np.max(np.abs(ex.value)):.3g}"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
