"""NNGP regression on n = 2,000 points: nnft_ppl (GPJax) against scikit-learn's
GaussianProcessRegressor with the same ErfNet NNGP kernel (a custom sklearn kernel in
NumPy), the same noise and jitter. Prints the times, their ratio and the relative
difference in the log marginal likelihood. Not a test: `python benchmarks/gp_vs_sklearn.py`."""

from __future__ import annotations

import time

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import Kernel

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import fit_gp

N, N_TEST, SW, SB, NOISE, JITTER, REPEATS = 2000, 200, 2.0, 1.0, 0.3, 1e-10, 3


class ErfNNGP(Kernel):
    """K = sb^2 + sw^2 (2/pi) arcsin(2 c / sqrt((1 + 2a)(1 + 2b))), c = sb^2 + sw^2 x.y / d (fixed scales)."""

    def __init__(self, sw=SW, sb=SB):
        self.sw, self.sb = sw, sb

    def _pre(self, x, y):
        return self.sb**2 + self.sw**2 * (x @ y.T) / x.shape[1]

    def __call__(self, X, Y=None, eval_gradient=False):
        Y = X if Y is None else Y
        c = self._pre(X, Y)
        a = self.sb**2 + self.sw**2 * np.sum(X * X, 1) / X.shape[1]
        b = self.sb**2 + self.sw**2 * np.sum(Y * Y, 1) / Y.shape[1]
        k = self.sb**2 + self.sw**2 * (2 / np.pi) * np.arcsin(2 * c / np.sqrt(np.outer(1 + 2 * a, 1 + 2 * b)))
        return (k, np.empty(k.shape + (0,))) if eval_gradient else k

    def diag(self, X):
        a = self.sb**2 + self.sw**2 * np.sum(X * X, 1) / X.shape[1]
        return self.sb**2 + self.sw**2 * (2 / np.pi) * np.arcsin(2 * a / (1 + 2 * a))

    def is_stationary(self):
        return False


def main():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-2, 2, N))[:, None]
    y = np.sin(3 * x[:, 0]) + 0.5 * x[:, 0] + NOISE * rng.standard_normal(N)
    xt = np.linspace(-2.5, 2.5, N_TEST)[:, None]

    def ours():
        g = fit_gp(ErfNet(sw=SW, sb=SB), x, y, noise=NOISE, num_iters=0, jitter=JITTER)
        mean = g.predict(xt)["mean"]  # one jitted factorisation gives the mean and the log ML
        return g.log_marginal_likelihood, mean

    t = time.perf_counter()
    ours()
    t_cold = time.perf_counter() - t

    def sklearn():
        gpr = GaussianProcessRegressor(ErfNNGP(), alpha=NOISE**2 + JITTER, optimizer=None).fit(x, y)
        return gpr.log_marginal_likelihood_value_, gpr.predict(xt)

    t_ours, t_sk = np.inf, np.inf
    for _ in range(REPEATS):  # best of REPEATS, alternating, so machine load hits both alike
        t = time.perf_counter()
        lml_ours, mean_ours = ours()
        t_ours = min(t_ours, time.perf_counter() - t)
        t = time.perf_counter()
        lml_sk, mean_sk = sklearn()
        t_sk = min(t_sk, time.perf_counter() - t)

    print(f"n = {N}, test points = {N_TEST}, kernel = ErfNet NNGP (sw={SW}, sb={SB}), noise = {NOISE}")
    print(f"nnft_ppl/GPJax : {t_ours:.3f} s best of {REPEATS} (first call incl. JIT compile {t_cold:.3f} s)")
    print(f"scikit-learn   : {t_sk:.3f} s best of {REPEATS}")
    print(f"time ratio nnft/sklearn = {t_ours / t_sk:.3f} (cold {t_cold / t_sk:.3f})")
    print(
        f"log ML: nnft {lml_ours:.10f}  sklearn {lml_sk:.10f}  relative diff {abs(lml_ours - lml_sk) / abs(lml_sk):.3e}"
    )
    print(f"max |mean difference| on the test grid: {np.max(np.abs(mean_ours - mean_sk)):.3e}")


if __name__ == "__main__":
    main()
