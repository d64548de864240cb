"""The paper's six-point check (arXiv:2008.08601, sec. 4.3) at width 20: infer the local quartic coupling
from the measured G4c of ReLUNet (and ErfNet, GaussNet), predict G6 - Wick6(K) from it at first order,
and compare with the measured G6 tuple by tuple in jackknife SEs, at first order and with the O(lam^2)
tree; then close the loop: the effective theory's (deform's Feynman rules) G4c and G6c against the
measured connected ones.

    PYTHONPATH=. python benchmarks/action_sixpoint.py [n_nets]
"""

from __future__ import annotations

import sys
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl as nn
from nnft_ppl import action as A

X = np.array([-1.0, -0.5, 0.5, 1.0])
CUTOFF = 5.0


def main(n_nets: int = 400_000) -> None:
    for arch in (nn.ReLUNet(width=20), nn.ErfNet(width=20), nn.GaussNet(width=20, sb=0.1, sw=1.0)):
        t0 = time.time()
        xs = 0.2 * X if arch.name == "GaussNet" else X
        mc = A.measure(arch, xs, n_nets, key=2026, orders=(4, 6), progress=False)
        lc = A.local_coupling(mc, arch, CUTOFF)
        sp1 = A.six_point_prediction(mc, arch, lc, tree=False)
        sp = A.six_point_prediction(mc, arch, lc)
        print(f"## {arch.name} width {arch.width}, x = {list(xs)}, {n_nets} networks ({time.time() - t0:.0f} s)")
        print(f"k-hat: order 4 {mc.khat.get(4, float('nan')):.2f}, order 6 {mc.khat.get(6, float('nan')):.2f}")
        print(lc.summary())
        print("first order:", sp1.summary())
        print("with the lam^2 tree:", sp.summary())
        print("closing the loop:", A.close_loop(mc, arch, lc).summary())
        res = sp.resolved
        if res.any():
            frac = np.abs(sp.predicted[res] / sp.measured[res] - 1)
            print(f"resolved tuples: median |pred/meas - 1| = {np.median(frac):.3f}")
        print()
    paper(n_nets)


def paper(n_nets: int = 400_000) -> None:
    """The paper's own configuration (arXiv:2008.08601, code github.com/keeganstoner/nn-qft
    six_pt_prediction.py): ReLU-net N = 20, sigma_b -> 0, x = 0.2, 0.4, ..., 1.2, lam-bar at first order
    over cutoffs 7 ... 1e5. There phi(x) = x Z for x > 0, so one local coupling is exact."""
    t0 = time.time()
    xs = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
    arch = nn.ReLUNet(width=20, sb=1e-8)
    mc = A.measure(arch, xs, n_nets, key=2026, orders=(4, 6), progress=False)
    print(
        f"## paper's configuration: ReLUNet width 20, sb -> 0, x = {list(xs)}, {n_nets} networks "
        f"({time.time() - t0:.0f} s); k-hat 4 {mc.khat[4]:.2f}, 6 {mc.khat[6]:.2f}"
    )
    for cutoff in (7.0, 100.0, 1e5):
        lc = A.local_coupling(mc, arch, cutoff)
        print(lc.summary())
        print("  first order:", A.six_point_prediction(mc, arch, lc, tree=False).summary())
        print("  with the lam^2 tree:", A.six_point_prediction(mc, arch, lc).summary())
    print()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400_000)
