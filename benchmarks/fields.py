"""The field-theory entries at length: FreeScalar's Lambda -> infinity convergence and reflection
positivity, ConformalField's scaling, inversion and four-point structure, and the symmetry registry.

    PYTHONPATH=. python benchmarks/fields.py [--neurons 2**20]

Prints Markdown tables (quoted in the issue-13 report); every Monte Carlo figure carries its
jackknife error over 32 blocks of neurons.
"""

from __future__ import annotations

import argparse
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import jax
import numpy as np

from nnft_ppl.architectures import ConformalField, FreeScalar
from nnft_ppl.stats import jackknife_se
from nnft_ppl.symmetry import reflect
from nnft_ppl.symmetry.report import run_ensemble

BLOCKS = 32


def cutoff_table() -> None:
    print("## FreeScalar: cutoff propagator vs continuum (max over r in {0.25, 0.5, 1, 2, 4}, m = 1)\n")
    print("| d | Lambda | max abs error | max bound | max error / bound | G2 cutoff(r=1) | G2 continuum(r=1) |")
    print("|---|---|---|---|---|---|---|")
    r = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    for d in (1, 2, 3):
        for lam in (5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0):
            a = FreeScalar(d=d, Lambda=lam, r_max=4.0)
            q = np.asarray(a.cutoff_g2(r))
            c = a.continuum_g2(r)
            b = a.cutoff_error_bound(r)
            err = np.abs(q - c)
            print(
                f"| {d} | {lam:g} | {err.max():.3e} | {b.max():.3e} | {np.max(err / b):.3f} | {q[2]:.8f} | {c[2]:.8f} |"
            )
    print()


def reflection_table() -> None:
    print("## FreeScalar: reflected Gram M_ij = G2(theta x_i, x_j), 14 random points with x_0 > 0\n")
    print("| d | Lambda | lambda_min(M) / lambda_max | lambda_min continuum / lambda_max | ||M - M_inf||_2 |")
    print("|---|---|---|---|---|")
    for d in (1, 2, 3):
        x = np.random.default_rng(d).uniform(-1.5, 1.5, size=(14, d))
        x[:, 0] = np.abs(x[:, 0]) + 0.05
        r = np.linalg.norm(reflect(x)[:, None] - x[None], axis=-1)
        for lam in (10.0, 30.0, 100.0, 300.0):
            a = FreeScalar(d=d, Lambda=lam, r_max=10.0)
            m = np.asarray(a.nngp_kernel(reflect(x), x))
            mc = a.continuum_g2(r)
            ev = np.linalg.eigvalsh(0.5 * (m + m.T))
            evc = np.linalg.eigvalsh(0.5 * (mc + mc.T))
            gap = np.linalg.norm(m - mc, 2)
            print(f"| {d} | {lam:g} | {ev[0] / ev[-1]:.3e} | {evc[0] / evc[-1]:.3e} | {gap:.3e} |")
    print()


def _neurons(arch, x, n, key):
    keys = jax.random.split(jax.random.key(key), n)
    h = np.asarray(arch.sample_neuron_features(keys, x))
    return h.reshape(BLOCKS, -1, h.shape[-1])


def _jack(stat, blocks):
    full = stat(blocks.reshape(-1, blocks.shape[-1]))
    reps = np.stack([stat(np.delete(blocks, b, 0).reshape(-1, blocks.shape[-1])) for b in range(BLOCKS)])
    return np.asarray(full), jackknife_se(reps)


def scaling_table(n: int) -> None:
    print(f"## ConformalField: log-log fit of Monte Carlo G2(0, r), {n} neurons, C = 1.3\n")
    print("| d | Delta | Lambda | r range | points | slope +- SE | -2 Delta | (slope + 2 Delta)/SE | amplitude +- SE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d, delta, lam, lo, hi in ((1, 0.1, 100.0, 0.2, 2.0), (1, 0.25, 100.0, 0.2, 2.0), (2, 0.5, 100.0, 0.2, 1.0),
                                  (3, 0.75, 50.0, 0.4, 1.0)):  # fmt: skip
        a = ConformalField(d=d, Delta=delta, C=1.3, Lambda=lam)
        r = np.geomspace(lo, hi, 12)
        x = np.zeros((13, d))
        x[1:, 0] = r
        s2 = float(a.readout_std) ** 2
        t = np.log(r)

        def stat(h, s2=s2, t=t):
            y = np.log(s2 * np.mean(h[:, :1] * h[:, 1:], axis=0))
            slope = np.cov(t, y, bias=True)[0, 1] / np.var(t)
            return np.array([slope, np.exp(y.mean() - slope * t.mean())])

        est, se = _jack(stat, _neurons(a, x, n, 7))
        print(
            f"| {d} | {delta} | {lam:g} | [{lo}, {hi}] | 12 | {est[0]:.4f} +- {se[0]:.4f} | {-2 * delta} | "
            f"{(est[0] + 2 * delta) / se[0]:+.2f} | {est[1]:.4f} +- {se[1]:.4f} |"
        )
    print()


def four_point_table(n: int) -> None:
    print(f"## ConformalField d = 2, Delta = 0.25, Lambda = 60: four points and their inverses, {n} neurons\n")
    a = ConformalField(d=2, Delta=0.25, C=1.0, Lambda=60.0, width=4)
    ang = np.array([0.1, 1.3, 2.4, 3.6])
    rad = np.array([0.85, 1.2, 0.95, 1.1])
    x = np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
    xi = x / np.sum(x * x, axis=1, keepdims=True)
    s2 = float(a.readout_std) ** 2

    def stat(h):
        out = []
        for o in (0, 4):
            m = (h[:, o : o + 4].T @ h[:, o : o + 4]) / h.shape[0]
            wick = m[0, 1] * m[2, 3] + m[0, 2] * m[1, 3] + m[0, 3] * m[1, 2]
            g4c = s2**2 / a.width * (3 * np.mean(np.prod(h[:, o : o + 4], axis=1)) - wick)
            out += [wick / (m[0, 1] * m[2, 3]), g4c, g4c / (s2**2 * m[0, 1] * m[2, 3])]
        return np.array(out)

    est, se = _jack(stat, _neurons(a, np.concatenate([x, xi]), n, 9))
    d2 = np.sum((x[:, None] - x[None]) ** 2, axis=-1)
    u = d2[0, 1] * d2[2, 3] / (d2[0, 2] * d2[1, 3])
    v = d2[0, 3] * d2[1, 2] / (d2[0, 2] * d2[1, 3])
    exact = []
    for p in (x, xi):
        k = np.asarray(a.nngp_kernel(p, p))
        g = a.exact_connected_values(p, [(0, 1, 2, 3)])[0][0]
        exact += [g, g / (k[0, 1] * k[2, 3])]
    print(f"cross-ratios u = {u:.6f}, v = {v:.6f}; conformal 1 + u^D + (u/v)^D = {1 + u**0.25 + (u / v) ** 0.25:.6f}\n")
    print("| configuration | Wick G4/(G12 G34) (MC) | G4c at N = 4 (MC) | G4c exact | G4c/(G12 G34) (MC) | exact |")
    print("|---|---|---|---|---|---|")
    for i, name in enumerate(("x", "x/|x|^2")):
        print(
            f"| {name} | {est[3 * i]:.4f} +- {se[3 * i]:.4f} | {est[3 * i + 1]:.4f} +- {se[3 * i + 1]:.4f} | "
            f"{exact[2 * i]:.4f} | {est[3 * i + 2]:.5f} +- {se[3 * i + 2]:.5f} | {exact[2 * i + 1]:.5f} |"
        )
    print()


def symmetry_table() -> None:
    print("## Symmetry registry (nnft_ppl.symmetry.report.run_ensemble, d = 2, width 6, n = 20000)\n")
    print("| architecture | test | estimate | SE | statistic | verdict |")
    print("|---|---|---|---|---|---|")
    for arch in ("FreeScalar", "ConformalField"):
        spec = {"name": arch, "architecture": arch, "params": {"d": 2, "width": 6}, "n": 20_000, "key": 1}
        _, res = run_ensemble(spec)
        for r in res:
            row = r.row()
            print(
                f"| {arch} | {row['test']} | {row['estimate']:.4g} | {row['se']:.3g} | {row['statistic']:.3g} | "
                f"{'pass' if r.passed else 'FAIL'} |"
            )
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--neurons", type=int, default=2**20)
    ap.add_argument("--only", nargs="*", default=None, help="sections: cutoff reflection scaling four symmetry")
    args = ap.parse_args()
    t0 = time.time()
    sections = {
        "cutoff": cutoff_table,
        "reflection": reflection_table,
        "scaling": lambda: scaling_table(args.neurons),
        "four": lambda: four_point_table(args.neurons),
        "symmetry": symmetry_table,
    }
    for name, fn in sections.items():
        if args.only is None or name in args.only:
            fn()
    print(f"({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
