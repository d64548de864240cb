"""Which optimiser should `fit_gp` use by default: optax L-BFGS (`optimizer="lbfgs"`, GPJax's
`fit_lbfgs`) against scipy's BFGS (`"scipy"`, GPJax's `fit_scipy`), on the fits the test suite,
the recipes and the scikit-learn benchmark make. Same start, same objective, same `num_iters`;
prints both log marginal likelihoods, lbfgs - scipy (>= 0: lbfgs at least as accurate), both
wall times (compile included) and the fitted scales.
Not a test: `python benchmarks/gp_optimizers.py [--large]` (`--large`: the n = 2,000 case too)."""

from __future__ import annotations

import argparse
import time
import warnings

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl.architectures import make_architecture
from nnft_ppl.gp import GPWarning, diabetes_bmi, fit_gp, synthetic


def cases(large: bool):
    s30, s20, d40, d100 = synthetic(30, noise=0.2, seed=0), synthetic(20, noise=0.2, seed=0), diabetes_bmi(40), None
    out = [
        ("test_gp: ErfNet synthetic n=30", "ErfNet", s30.x, s30.y, dict(noise=0.5, num_iters=200)),
        ("test_gp: ErfNet synthetic n=30, 40 its", "ErfNet", s30.x, s30.y, dict(noise=0.5, num_iters=40)),
        ("test_gp: ReLUNet synthetic n=20, 30 its", "ReLUNet", s20.x, s20.y, dict(noise=0.5, num_iters=30)),
        ("test_bnn: ErfNet diabetes n=40, 100 its", "ErfNet", d40.x, d40.y, dict(noise=0.5, num_iters=100)),
    ]
    d100 = diabetes_bmi(100)
    for name in ("ErfNet", "ReLUNet", "GaussNet", "CosNet"):
        out.append((f"gp_fit recipe: {name} diabetes n=100", name, d100.x, d100.y, dict(noise=0.3, num_iters=200)))
    if large:
        rng = np.random.default_rng(0)
        x = rng.uniform(-2, 2, (2000, 1))
        y = np.sin(2 * x[:, 0]) + 0.3 * rng.standard_normal(2000)
        out.append(("gp_vs_sklearn: ErfNet n=2000", "ErfNet", x, y, dict(noise=0.3, num_iters=200)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--large", action="store_true")
    a = ap.parse_args()
    print(f"{'case':<42} {'log ML lbfgs':>13} {'log ML scipy':>13} {'lbfgs-scipy':>12} {'t lbfgs':>8} {'t scipy':>8}")
    for label, name, x, y, kw in cases(a.large):
        res = {}
        for opt in ("lbfgs", "scipy"):
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", GPWarning)
                g = fit_gp(make_architecture(name), x, y, optimizer=opt, **kw)
            res[opt] = (g.log_marginal_likelihood, time.perf_counter() - t0, g, len(caught))
        (la, ta, ga, wa), (ls, ts, gs, ws) = res["lbfgs"], res["scipy"]
        print(f"{label:<42} {la:13.6f} {ls:13.6f} {la - ls:+12.2e} {ta:7.1f}s {ts:7.1f}s")
        fmt = lambda g: ", ".join(f"{k}={v:.4g}" for k, v in {**g.kernel.values(), "noise": g.noise}.items())
        print(f"    lbfgs: {fmt(ga)} ({wa} warnings); scipy: {fmt(gs)} ({ws} warnings)")


if __name__ == "__main__":
    main()
