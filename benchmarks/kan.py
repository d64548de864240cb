"""Trained Kolmogorov-Arnold networks on two targets, with their learned edge functions.

1. f(x, y) = x y with a [2, 2, 1] KAN (x y = ((x + y)^2 - (x - y)^2) / 4: two hidden nodes suffice);
2. f(x, y) = exp(sin(pi x) + y^2) with a [2, 1, 1] KAN (the paper's own example, arXiv:2404.19756
   fig. 2.3: one hidden node, edges sin, square, then exp).
Each trains 8 networks at once (Adam, lr 1e-2, full-batch MSE on 512 uniform points in [-1, 1]^2);
prints the test RMSE (2000 fresh points) of each against the target's RMS, and saves the best
network's edge functions to benchmarks/results/kan_edges_<target>.png.

3. With `--prior`: the KAN zoo entry at initialisation (width 4, d = 2) through the library's
   statistics: the neuron-level G4c against the exact finite-width formula (quadrature), the Z2
   test (the readout is symmetric: odd correlators vanish) and the rotation test (edge functions
   act coordinate-wise: KANs are not rotation invariant, which the test should detect).

    python benchmarks/kan.py [--steps 4000] [--prior]
"""

from __future__ import annotations

import argparse
import pathlib
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
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


def prior_statistics() -> None:
    from nnft_ppl.architectures import KAN
    from nnft_ppl.ensemble import neuron_correlators
    from nnft_ppl.symmetry import prior_ensemble, random_rotations, rotation_test, z2_test
    from nnft_ppl.theory import exact_connected

    arch = KAN(width=4, d=2)
    x = np.random.default_rng(1).uniform(-1, 1, (3, 2))
    neu = neuron_correlators(arch, x, 200_000, key=2, max_order=4, progress=False)
    exact, qerr = exact_connected(arch, x, 4, return_error=True)
    g4, se = neu.G4c.sel(width=4).values, neu.G4c_se.sel(width=4).values
    z = np.abs(g4 - exact) / np.hypot(se, qerr)
    print(
        f"KAN prior (N = 4, d = 2): neuron-level G4c vs exact: max |z| = {z.max():.2f} over {z.size} entries "
        f"(max quadrature error {qerr.max():.1e}, max MC SE {se.max():.1e}, max |G4c| {np.abs(exact).max():.2e})"
    )
    tree = prior_ensemble(arch, x, 100_000, key=3)
    r = z2_test(tree)
    print(f"  Z2 test: max |z| = {r.statistic:.2f}, p = {r.p_value:.3f}, passed = {r.passed}")
    rot = rotation_test(arch, x, random_rotations(jax.random.key(5), 2, 4), 100_000, key=6)
    print(f"  rotation test: max |z| = {rot.statistic:.2f}, p = {rot.p_value:.2e}, passed = {rot.passed}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--prior", action="store_true")
    args = ap.parse_args()
    if args.prior:
        prior_statistics()
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
