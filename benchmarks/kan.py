"""Trained Kolmogorov-Arnold networks on two targets, with their learned edge functions.

1. f(x, y) = x y with a [2, 2, 1] KAN (x y = ((x + y)^2 - (x - y)^2) / 4: two hidden nodes suffice);
2. f(x, y) = exp(sin(pi x) + y^2) with a [2, 1, 1] KAN (the paper's own example, arXiv:2404.19756
   fig. 2.3: one hidden node, edges sin, square, then exp).
Each trains 8 networks at once (Adam, lr 1e-2, full-batch MSE on 512 uniform points in [-1, 1]^2);
prints the test RMSE (2000 fresh points) of each against the target's RMS, and saves the best
network's edge functions to benchmarks/results/kan_edges_<target>.png.

    python benchmarks/kan.py [--steps 4000]
"""

from __future__ import annotations

import argparse
import pathlib
import time

import jax
import matplotlib
import numpy as np

import nnft_ppl  # noqa: F401
from nnft_ppl.expressivity import KANSpec, plot_edges, rmse, train_kan

matplotlib.use("Agg")

TARGETS = {
    "xy": ((2, 2, 1), 1.0, lambda x: x[:, 0] * x[:, 1]),
    "exp_sin_sq": ((2, 1, 1), 2.0, lambda x: np.exp(np.sin(np.pi * x[:, 0]) + x[:, 1] ** 2)),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x, x_test = rng.uniform(-1, 1, (512, 2)), rng.uniform(-1, 1, (2000, 2))
    out = pathlib.Path(__file__).parent / "results"
    for name, (widths, bound, f) in TARGETS.items():
        spec = KANSpec(widths, grid=5, order=3, bound=bound)
        t0 = time.perf_counter()
        params, history = train_kan(spec, x, f(x), key=1, n_nets=8, steps=args.steps, learning_rate=1e-2)
        err = rmse(spec, params, x_test, f(x_test))
        scale = np.sqrt(np.mean(f(x_test) ** 2))
        print(
            f"{name:>11} KAN {list(widths)}: test RMSE median {np.median(err):.2e}, best {err.min():.2e}, "
            f"worst {err.max():.2e} (target RMS {scale:.3f}; relative median {np.median(err) / scale:.1e}); "
            f"{args.steps} steps x 8 nets in {time.perf_counter() - t0:.1f} s"
        )
        i_best = int(np.argmin(err))
        best = jax.tree.map(lambda a: a[i_best], params)  # noqa: B023
        fig = plot_edges(spec, best)
        fig.suptitle(f"learned KAN edge functions, target {name}")
        fig.tight_layout()
        fig.savefig(out / f"kan_edges_{name}.png", dpi=90)


if __name__ == "__main__":
    main()
