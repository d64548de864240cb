"""Effective samples per second: NUTS on the deformed ensemble against importance reweighting of prior
draws by exp(-S_int) (Kish ESS), at three couplings lam, for a phi^4-deformed CosNet (width 32) on the box
[-L, L] (default L = 8 with 32 Gauss-Legendre points: S_int grows with the volume, so reweighting
collapses at moderate lam; with L = 1 it stays healthy up to lam ~ 1e5).

The NUTS sampler is compiled once for all couplings (the potential is a traced argument); the first
(compiling) run is reported separately and the per-lam rows are steady-state. Reweighting draws are
timed on a second call (compiled).

    python benchmarks/nuts_vs_reweighting.py [--lams 1 100 1000] [--half-width 8] [--draws 100000]
"""

from __future__ import annotations

import argparse
import sys

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import jax
import numpy as np

import nnft_ppl as nf
from nnft_ppl.deform import Phi4, deform, make_quadrature, sample_scan
from nnft_ppl.deform._analysis import nuts_ess_per_second, reweighting_scan


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lams", type=float, nargs=3, default=[1.0, 100.0, 1000.0])
    ap.add_argument("--half-width", type=float, default=8.0, help="box [-L, L]")
    ap.add_argument("--points", type=int, default=32, help="quadrature points")
    ap.add_argument("--draws", type=int, default=100_000, help="prior draws for reweighting")
    ap.add_argument("--chains", type=int, default=8)
    ap.add_argument("--samples", type=int, default=500)
    a = ap.parse_args(argv)
    model = deform(
        nf.CosNet(width=32, d=1, sw=1.0, sa=1.0),
        Phi4(a.lams[0]),
        make_quadrature((-a.half_width, a.half_width), a.points),
    )
    x = np.array([[-0.5], [0.0], [0.5]])
    pots = [Phi4(v) for v in a.lams]
    runs = sample_scan(
        model,
        x,
        jax.random.PRNGKey(0),
        [pots[0], *pots],
        num_warmup=a.samples,
        num_samples=a.samples,
        num_chains=a.chains,
    )
    reweighting_scan(model, x, jax.random.PRNGKey(1), pots[:1], 1000)  # compile the prior sampler
    rw = reweighting_scan(model, x, jax.random.PRNGKey(2), pots, a.draws)
    print(
        f"backend={jax.default_backend()}  NUTS: {a.chains} chains x ({a.samples} warm-up + {a.samples} draws); "
        f"reweighting: {a.draws} prior draws"
    )
    print(f"first NUTS run incl. compilation: {runs[0].elapsed_s:.1f} s")
    print(
        f"{'lam':>8} | {'NUTS ESS':>9} {'NUTS s':>7} {'NUTS ESS/s':>11} | {'Kish ESS':>10} {'RW s':>6} {'RW ESS/s':>10}"
    )
    for lam, run, r in zip(a.lams, runs[1:], rw, strict=True):
        ess, eps = nuts_ess_per_second(run)
        print(
            f"{lam:>8g} | {ess:>9.0f} {run.elapsed_s:>7.2f} {eps:>11.1f} | {r['kish_ess']:>10.1f} "
            f"{r['elapsed_s']:>6.2f} {r['ess_per_s']:>10.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
