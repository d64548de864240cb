"""Sparse variational NNGP (GPJax's collapsed bound, `fit_gp(method="sparse")`) against the
exact GP (`method="exact"`) at n = 2,000, and the sparse GP alone at n = 20,000.

Data: y = sin(3x) + x/2 + 0.3 e on x ~ U[-1.5, 1.5] (seed 0), ErfNet NNGP kernel, (sw, sb,
noise) fitted from (1, 1, 0.1 std y) with optax L-BFGS (`num_iters`), sparse with `M` inducing
inputs (fitted too). Each configuration runs in a fresh subprocess, so its peak resident memory
(`ru_maxrss`) is its own; `baseline` is the same process up to the fit (imports, data, JAX).
Printed per run: wall time of the fit (compile included; its process CPU time beside it, a
measure less sensitive to other load on the machine) and of predicting 500 test points, peak
RSS and its excess over the baseline, log ML (exact) or ELBO (sparse; a lower bound on log ML)
per point, test RMSE against the noiseless truth (with its SE over the test points) and
the RMS difference from the exact predictive mean. Then the ratios sparse / exact.
Not a test: `python benchmarks/sparse_gp.py [--n 2000] [--n-large 20000] [--inducing 256]`."""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

N_TEST = 500


def data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, n)
    f = lambda z: np.sin(3.0 * z) + 0.5 * z
    xt = np.linspace(-1.5, 1.5, N_TEST)
    return x[:, None], f(x) + 0.3 * rng.standard_normal(n), xt[:, None], f(xt)


def one(method: str, n: int, inducing: int, iters: int) -> dict:
    """One configuration in this process: a JSON-able record."""
    import nnft_ppl  # noqa: F401  (float64)
    from nnft_ppl.architectures import ErfNet
    from nnft_ppl.gp import fit_gp

    x, y, xt, ft = data(n)
    out = {"method": method, "n": n}
    if method != "baseline":
        t0, c0 = time.perf_counter(), time.process_time()
        kw = {"num_inducing": inducing} if method == "sparse" else {}
        g = fit_gp(ErfNet(), x, y, num_iters=iters, method=method, **kw)
        t1, c1 = time.perf_counter(), time.process_time()
        p = g.predict(xt)
        t2 = time.perf_counter()
        err = p["mean"] - ft
        out.update(
            fit_s=t1 - t0,
            fit_cpu_s=c1 - c0,
            predict_s=t2 - t1,
            objective=g.log_marginal_likelihood,
            rmse=float(np.sqrt(np.mean(err**2))),
            # SE of the RMSE by the delta method over the test points
            rmse_se=float(np.std(err**2) / math.sqrt(err.size) / (2 * np.sqrt(np.mean(err**2)))),
            mean=[float(v) for v in p["mean"]],
            scales={**g.kernel.values(), "noise": g.noise},
            notes=g.notes,
        )
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run(method, n, inducing, iters) -> dict:
    cmd = [sys.executable, __file__, "--one", method, "--n", str(n), "--inducing", str(inducing), "--iters", str(iters)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{method} n={n} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def show(r: dict, base: float, exact_mean=None) -> None:
    if "fit_s" not in r:
        return
    what = "log ML" if r["method"] == "exact" else "ELBO"
    line = (
        f"{r['method']:>6} n={r['n']:>6}: fit {r['fit_s']:7.1f} s (CPU {r.get('fit_cpu_s', float('nan')):.1f} s), "
        f"predict {r['predict_s']:5.2f} s, "
        f"peak RSS {r['peak_rss_mb']:7.0f} MB (+{r['peak_rss_mb'] - base:.0f} over baseline), "
        f"{what}/n {r['objective'] / r['n']:+.5f}, test RMSE {r['rmse']:.4f} +- {r['rmse_se']:.4f}"
    )
    if exact_mean is not None:
        line += f", RMS diff from exact mean {np.sqrt(np.mean((np.asarray(r['mean']) - exact_mean) ** 2)):.2e}"
    print(line)
    print(f"        scales {', '.join(f'{k}={v:.4g}' for k, v in r['scales'].items())}; notes: {r['notes'] or 'none'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--n-large", type=int, default=20000)
    ap.add_argument("--inducing", type=int, default=256)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--one", choices=["exact", "sparse", "baseline"])
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.n, a.inducing, a.iters)))
        return
    base = run("baseline", a.n, a.inducing, a.iters)["peak_rss_mb"]
    print(f"baseline (imports, data, JAX): peak RSS {base:.0f} MB")
    ex = run("exact", a.n, a.inducing, a.iters)
    sp = run("sparse", a.n, a.inducing, a.iters)
    show(ex, base)
    show(sp, base, np.asarray(ex["mean"]))
    print(
        f"ratios sparse/exact at n={a.n}: fit time {sp['fit_s'] / ex['fit_s']:.2f}, "
        f"excess memory {(sp['peak_rss_mb'] - base) / max(ex['peak_rss_mb'] - base, 1e-9):.2f}; "
        f"ELBO - log ML = {sp['objective'] - ex['objective']:.2f} nats; "
        f"RMSE ratio {sp['rmse'] / ex['rmse']:.3f}"
    )
    if a.n_large:
        big = run("sparse", a.n_large, a.inducing, a.iters)
        show(big, base)


if __name__ == "__main__":
    main()
