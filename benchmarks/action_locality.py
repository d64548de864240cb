"""Locality diagnostic (issue 15, item 3, partial): if the finite-width G4c came from one local quartic
vertex, lam_t = G4c_t / (-int prod K) would not depend on the tuple. Here lam(0,0,j,j) / lam(0,0,0,0)
against the separation |x_j - x_0|, from the exact correlators (width 10), CosNet vs GaussNet (vs
SharedScaleNet at alpha = 0.5, whose infinite-width part is a product of kernels, not a vertex).

Second part: the amputated vertex V = -(W^-1 K^-1)^{(x)4} G4c on a 4-point grid (spacing 0.8), its
profile V(i,i,j,j) / V(i,i,i,i) against separation, exact and Monte Carlo (jackknifed block by block).

    PYTHONPATH=. python benchmarks/action_locality.py [n_nets]
"""

from __future__ import annotations

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl as nn
from nnft_ppl import action as A

X = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
CUTOFF = 10.0


def main() -> None:
    archs = (nn.CosNet(width=10), nn.GaussNet(width=10, sb=0.2), nn.SharedScaleNet(width=10, alpha=0.5))
    tuples = [(0, 0, j, j) for j in range(len(X))]
    print(f"lam(0,0,j,j) / lam(0,0,0,0) at Lambda = {CUTOFF:g} (exact correlators, width 10)")
    print("separation | " + " | ".join(a.name for a in archs))
    rows = []
    for arch in archs:
        ex = A.exact_correlators(arch, X, orders=(4,), full=False)
        lc = A.local_coupling(ex, arch, CUTOFF, tuples=tuples)
        rows.append(lc.lam / lc.lam[0])
    for j, sep in enumerate(X - X[0]):
        print(f"{sep:10.2f} | " + " | ".join(f"{r[j]:9.4f}" for r in rows))


def amputated(n_nets: int = 100_000) -> None:
    grid, w = np.linspace(-1.2, 1.2, 4), np.full(4, 0.8)
    print(f"\namputated vertex V(i,i,j,j)/V(i,i,i,i) on the grid {list(grid)} (width 4; MC {n_nets} networks)")
    for arch in (nn.CosNet(width=4), nn.GaussNet(width=4, sb=0.2)):
        ex = A.locality(A.amputate(A.exact_correlators(arch, grid, orders=(4,), full=False), arch, w))
        mc = A.locality(A.amputate(A.measure(arch, grid, n_nets, key=7, orders=(4,), progress=False), arch, w))
        cells = [f"{s:.1f}: {e:.3f} / {m:.3f} ± {se:.3f}" for s, e, m, se in zip(*ex[:2], *mc[1:], strict=True)]
        print(f"{arch.name} (separation: exact / MC ± SE): " + "; ".join(cells))


if __name__ == "__main__":
    import sys

    main()
    amputated(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
