"""Universal approximation in action: the best sup-norm error of trained single-hidden-layer tanh
networks on f(x) = sin(2 pi x) + x / 2 over [-1, 1] against the width N, with the fitted log-log
rate (slope and its 95% CI from every (width, seed) pair).

Each width trains `--seeds` networks at once (Adam, lr 1e-2, full-batch MSE on 256 grid points,
`--steps` steps, one compiled lax.scan over a vmap); the error is the sup norm of phi - f on 2048
points, the best of 6 checkpoints. The slope is an empirical rate for this target and this
optimiser (no theory amplitude is claimed: UAT bounds are existence results).

    python benchmarks/uat.py [--widths 2 4 8 16 32 64] [--seeds 6] [--steps 6000] [--fit-from 8] [--out uat.nc]
"""

from __future__ import annotations

import argparse
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl  # noqa: F401
from nnft_ppl.expressivity import fit_rate, uat_study


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--fit-from", type=int, default=8, help="also fit the rate over widths >= this")
    ap.add_argument("--out", default=None, help="write the Dataset to this netCDF file")
    args = ap.parse_args()
    t0 = time.perf_counter()
    ds = uat_study(tuple(args.widths), n_seeds=args.seeds, key=0, steps=args.steps, n_checks=6)
    err = ds.sup_error.values
    print(f"target sin(2 pi x) + x/2 on [-1, 1]; {args.seeds} seeds per width, {args.steps} Adam steps")
    print(f"{'width':>6} {'mean log10 err':>15} {'SE':>7} {'median err':>11} {'min err':>10} {'max err':>10}")
    for w, e in zip(ds.width.values, err, strict=True):
        le = np.log10(e)
        print(
            f"{w:>6} {le.mean():>15.3f} {le.std(ddof=1) / np.sqrt(le.size):>7.3f} "
            f"{np.median(e):>11.2e} {e.min():>10.2e} {e.max():>10.2e}"
        )
    lo, hi = ds.attrs["slope_ci"]
    print(
        f"fitted rate: sup error ~ {ds.attrs['amplitude']:.3g} N^({ds.attrs['slope']:.2f} +- "
        f"{ds.attrs['slope_se']:.2f}), 95% CI [{lo:.2f}, {hi:.2f}]"
    )
    big = ds.width.values >= args.fit_from
    if 2 <= big.sum() < big.size:
        r = fit_rate(ds.width.values[big], err[big])
        print(
            f"fitted rate for N >= {args.fit_from} (past the widths too narrow to resolve the target): "
            f"sup error ~ {r.amplitude:.3g} N^({r.slope:.2f} +- {r.slope_se:.2f}), "
            f"95% CI [{r.ci[0]:.2f}, {r.ci[1]:.2f}]"
        )
    print(f"wall time {time.perf_counter() - t0:.1f} s")
    if args.out:
        ds.to_netcdf(args.out)


if __name__ == "__main__":
    main()
