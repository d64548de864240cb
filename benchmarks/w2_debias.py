"""W2 to the GP: the plug-in estimate's Monte Carlo noise floor and the debiased estimate.

1. A synthetic null (the network's predictive equals the GP's exactly; B = 32 batches of 50 draws,
   40 grid points): the plug-in W2 in its own SEs, and the debiased mean squared W2 over replicas.
2. With `--nuts`: the NN-vs-GP set-up of tests/test_nn_vs_gp.py (ErfNet, synthetic n = 20, 4 chains x
   400 draws, widths 4..256): debiased W2, SE, noise floor and the plug-in value per width.

    python benchmarks/w2_debias.py [--replicas 400] [--nuts]
"""

from __future__ import annotations

import argparse

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl  # noqa: F401
from nnft_ppl.gp import w2_estimate


def null_draws(rng, shift=0.0, b=32, s=50, m=40, tau=0.3, s2=0.1):
    gm, gv = np.linspace(-1, 1, m), np.full(m, 1.0)
    cm = gm + shift + tau * rng.standard_normal((b, s, m))
    return cm, np.full_like(cm, 1.0 - s2 - tau**2), s2, gm, gv


def synthetic_null(replicas: int) -> None:
    rng = np.random.default_rng(0)
    est = [w2_estimate(*null_draws(rng)) for _ in range(replicas)]
    raw = np.array([e.raw for e in est])
    raw_z = raw / np.array([e.raw_se for e in est])
    d2 = np.array([e.d2 for e in est])
    d2_se = np.array([e.d2_se for e in est])
    print(f"synthetic null, {replicas} replicas (true W2 = 0):")
    print(
        f"  plug-in W2: mean {raw.mean():.5f} +- {raw.std(ddof=1) / np.sqrt(replicas):.5f}, in its own SEs: "
        f"mean z {raw_z.mean():.2f} +- {raw_z.std(ddof=1) / np.sqrt(replicas):.2f}, min z {raw_z.min():.1f}"
    )
    print(
        f"  debiased mean squared W2: mean {d2.mean():.2e} +- {d2.std(ddof=1) / np.sqrt(replicas):.2e} "
        f"(z {d2.mean() / (d2.std(ddof=1) / np.sqrt(replicas)):+.2f}); replica scatter / mean jackknife SE "
        f"{d2.std(ddof=1) / d2_se.mean():.2f}; resolved (false alarms): {sum(e.resolved for e in est)}"
    )


def nuts_table() -> None:
    from nnft_ppl.architectures import ErfNet
    from nnft_ppl.gp import compare_widths, synthetic

    d = synthetic(20, noise=0.5, seed=1)
    cmp = compare_widths(
        ErfNet(),
        d,
        (4, 16, 64, 256),
        n_grid=10,
        fit_iters=100,
        init_noise=0.1,
        num_warmup=300,
        num_samples=400,
        rng_key=0,
    )
    print("| width | W2 debiased | SE | resolved | noise floor | plug-in W2 | SE |")
    for r in cmp.rows:
        print(
            f"| {r['width']} | {r['w2']:.5f} | {r['w2_se']:.5f} | {r['w2_resolved']} | {r['w2_noise_floor']:.5f} | "
            f"{r['w2_raw']:.5f} | {r['w2_raw_se']:.5f} |"
        )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=400)
    p.add_argument("--nuts", action="store_true")
    a = p.parse_args()
    synthetic_null(a.replicas)
    if a.nuts:
        nuts_table()
