"""NNGP regression on n = 2,000 points: nnft_ppl (GPJax) against scikit-learn's
GaussianProcessRegressor with the same ErfNet NNGP kernel (a custom sklearn kernel in
NumPy, with analytic hyperparameter gradients), the same noise and the same jitter.

Rows (each side does the same work):
- `mean`: fit with fixed hyperparameters, log marginal likelihood, predictive mean at the
  test points (`fit_gp(num_iters=0)` + `predict(xt, variance=False)` vs `fit` + `predict(xt)`).
- `mean+std`: the same plus the latent predictive variance (`predict(xt)` vs `return_std=True`).
- `optimise` (`--optimise`): hyperparameters (sw, sb, noise) by maximising the marginal
  likelihood from the same start: `fit_gp(optimizer="lbfgs")` (GPJax's `fit_lbfgs`: optax
  L-BFGS, the loop compiled once; `--optimizer scipy` for GPJax's `fit_scipy`, scipy BFGS) vs
  sklearn's L-BFGS-B (analytic gradients; the noise as a WhiteKernel), then log ML and mean.

Times: the first call of each side (ours includes the JIT compile), then the median
(and min) of `--repeats` warm calls, alternating ours/sklearn so machine load hits both
alike. (`gpx.fit_scipy` jits a new closure per call, so with `--optimizer scipy` ours
compiles the objective's gradient again in every `optimise` call, in its warm times.) Prints both
times, the ratio nnft/sklearn of the medians and the relative difference in log ML.
Ours fits y as it is (`standardize=False`), like sklearn's `normalize_y=False`. Float64
throughout (`import nnft_ppl` enables it); both factorise with the same LAPACK (jax's CPU
`potrf`/`trsm` are SciPy's OpenBLAS).
Not a test: `python benchmarks/gp_vs_sklearn.py [--repeats 5] [--optimise]`."""

from __future__ import annotations

import argparse
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import Hyperparameter, Kernel, WhiteKernel

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import fit_gp

N, N_TEST, SW, SB, NOISE, JITTER = 2000, 200, 2.0, 1.0, 0.3, 1e-10


class ErfNNGP(Kernel):
    """K = sb^2 + sw^2 (2/pi) arcsin(2 c / sqrt((1 + 2a)(1 + 2b))), c = sb^2 + sw^2 x.y / d,
    a = c(x, x), b = c(y, y); gradients with respect to log sb and log sw (sklearn's theta)."""

    def __init__(self, sw=SW, sb=SB, sw_bounds=(1e-3, 1e3), sb_bounds=(1e-3, 1e3)):
        self.sw, self.sb, self.sw_bounds, self.sb_bounds = sw, sb, sw_bounds, sb_bounds

    @property
    def hyperparameter_sb(self):
        return Hyperparameter("sb", "numeric", self.sb_bounds)

    @property
    def hyperparameter_sw(self):
        return Hyperparameter("sw", "numeric", self.sw_bounds)

    def __call__(self, X, Y=None, eval_gradient=False):
        sw2, sb2, d = self.sw**2, self.sb**2, X.shape[1]
        Yv = X if Y is None else Y
        dot = X @ Yv.T / d
        nx, ny = np.sum(X * X, 1) / d, np.sum(Yv * Yv, 1) / d
        c = sb2 + sw2 * dot
        ra = 1.0 / np.sqrt(1.0 + 2.0 * (sb2 + sw2 * nx))
        rb = 1.0 / np.sqrt(1.0 + 2.0 * (sb2 + sw2 * ny))
        u = 2.0 * c * ra[:, None] * rb[None, :]
        asin = np.arcsin(u)
        k = sb2 + sw2 * (2.0 / np.pi) * asin
        if not eval_gradient:
            return k
        # du/dt for t = log sw, log sb: dc/dt and d(1 + 2a)/dt = 2 da/dt
        w = sw2 * (2.0 / np.pi) / np.sqrt((1.0 - u) * (1.0 + u))
        dc_sw, dc_sb = 2.0 * sw2 * dot, 2.0 * sb2
        dA_sw, dB_sw = 4.0 * sw2 * nx * ra**2, 4.0 * sw2 * ny * rb**2  # dA/A
        dA_sb, dB_sb = 4.0 * sb2 * ra**2, 4.0 * sb2 * rb**2
        du_sw = 2.0 * dc_sw * ra[:, None] * rb[None, :] - 0.5 * u * (dA_sw[:, None] + dB_sw[None, :])
        du_sb = 2.0 * dc_sb * ra[:, None] * rb[None, :] - 0.5 * u * (dA_sb[:, None] + dB_sb[None, :])
        g_sb = 2.0 * sb2 + w * du_sb
        g_sw = 2.0 * sw2 * (2.0 / np.pi) * asin + w * du_sw
        return k, np.stack([g_sb, g_sw], axis=-1)  # theta order: sb, sw (alphabetical)

    def diag(self, X):
        a = self.sb**2 + self.sw**2 * np.sum(X * X, 1) / X.shape[1]
        return self.sb**2 + self.sw**2 * (2 / np.pi) * np.arcsin(2 * a / (1 + 2 * a))

    def is_stationary(self):
        return False


def data():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-2, 2, N))[:, None]
    y = np.sin(3 * x[:, 0]) + 0.5 * x[:, 0] + NOISE * rng.standard_normal(N)
    return x, y, np.linspace(-2.5, 2.5, N_TEST)[:, None]


def rows(x, y, xt, optimise: bool, iters: int, optimizer: str = "lbfgs"):
    """name -> (ours, sklearn); each returns (log ML, mean, extra) doing the same work."""

    def ours_mean():
        g = fit_gp(ErfNet(sw=SW, sb=SB), x, y, noise=NOISE, num_iters=0, jitter=JITTER, standardize=False)
        return g.log_marginal_likelihood, g.predict(xt, variance=False)["mean"], None

    def sk_mean():
        gpr = GaussianProcessRegressor(ErfNNGP(), alpha=NOISE**2 + JITTER, optimizer=None).fit(x, y)
        return gpr.log_marginal_likelihood_value_, gpr.predict(xt), None

    def ours_std():
        g = fit_gp(ErfNet(sw=SW, sb=SB), x, y, noise=NOISE, num_iters=0, jitter=JITTER, standardize=False)
        p = g.predict(xt)
        return g.log_marginal_likelihood, p["mean"], np.sqrt(p["var_f"])

    def sk_std():
        gpr = GaussianProcessRegressor(ErfNNGP(), alpha=NOISE**2 + JITTER, optimizer=None).fit(x, y)
        mean, std = gpr.predict(xt, return_std=True)
        return gpr.log_marginal_likelihood_value_, mean, std

    out = {"mean": (ours_mean, sk_mean), "mean+std": (ours_std, sk_std)}
    if optimise:

        def ours_opt():
            kw = dict(noise=NOISE, num_iters=iters, jitter=JITTER, optimizer=optimizer, standardize=False)
            g = fit_gp(ErfNet(sw=SW, sb=SB), x, y, **kw)
            v = g.kernel.values()
            return g.log_marginal_likelihood, g.predict(xt, variance=False)["mean"], (v["sw"], v["sb"], g.noise)

        def sk_opt():
            kern = ErfNNGP() + WhiteKernel(NOISE**2, (1e-6, 1e2))
            gpr = GaussianProcessRegressor(kern, alpha=JITTER, optimizer="fmin_l_bfgs_b").fit(x, y)
            k = gpr.kernel_
            # the latent mean: the WhiteKernel adds nothing off the training points
            return gpr.log_marginal_likelihood_value_, gpr.predict(xt), (k.k1.sw, k.k1.sb, np.sqrt(k.k2.noise_level))

        out["optimise"] = (ours_opt, sk_opt)
    return out


def timed(f):
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="warm calls per side (alternating); median reported")
    ap.add_argument("--optimise", action="store_true", help="add the hyperparameter-optimisation row")
    ap.add_argument("--opt-repeats", type=int, default=3, help="warm calls per side for the optimise row")
    ap.add_argument("--iters", type=int, default=200, help="max optimiser iterations for ours (--optimise)")
    ap.add_argument(
        "--optimizer", default="lbfgs", choices=("lbfgs", "scipy", "adam"), help="fit_gp optimizer (--optimise)"
    )
    args = ap.parse_args()
    x, y, xt = data()
    print(f"n = {N}, test points = {N_TEST}, kernel = ErfNet NNGP (sw={SW}, sb={SB}), noise = {NOISE}, ", end="")
    print(f"jitter = {JITTER}, float64, warm calls alternate ours/sklearn")
    for name, (ours, sk) in rows(x, y, xt, args.optimise, args.iters, args.optimizer).items():
        cold_o, _ = timed(ours)
        cold_s, _ = timed(sk)
        to, ts = [], []
        repeats = args.opt_repeats if name == "optimise" else args.repeats
        for _ in range(repeats):
            t, (lml_o, mean_o, ex_o) = timed(ours)
            to.append(t)
            t, (lml_s, mean_s, ex_s) = timed(sk)
            ts.append(t)
        mo, ms = float(np.median(to)), float(np.median(ts))
        print(f"[{name}] warm: median of {repeats}")
        print(f"  nnft_ppl/GPJax : {mo:.3f} s median (min {min(to):.3f}; first call incl. JIT compile {cold_o:.3f} s)")
        print(f"  scikit-learn   : {ms:.3f} s median (min {min(ts):.3f}; first call {cold_s:.3f} s)")
        ratios = f"min/min {min(to) / min(ts):.3f}, first calls {cold_o / cold_s:.3f}"
        print(f"  time ratio nnft/sklearn = {mo / ms:.3f} ({ratios})")
        print(f"  log ML: nnft {lml_o:.10f}  sklearn {lml_s:.10f}  relative diff {abs(lml_o - lml_s) / abs(lml_s):.3e}")
        print(f"  max |mean difference| on the test grid: {np.max(np.abs(mean_o - mean_s)):.3e}")
        if name == "mean+std":
            print(f"  max |std difference|: {np.max(np.abs(ex_o - ex_s)):.3e}")
        if name == "optimise":
            print(f"  fitted (sw, sb, noise): nnft {np.round(ex_o, 6)}  sklearn {np.round(ex_s, 6)}")


if __name__ == "__main__":
    main()
