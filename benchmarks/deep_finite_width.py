"""DeepMLP at finite width: G4c against depth L and width N, and the leading-order recursion.

The connected four-point function of a deep MLP grows like L/N at criticality (Roberts, Yaida &
Hanin, arXiv:2106.10165, ch. 4). For each activation, at one input point:
- a depth scan at fixed N and a width scan at fixed L, each entry the network-level estimate
  (`ensemble_correlators`, jackknife SE, Pareto k-hat of the summands);
- log-log fits of |G4c| against L (slope with its 95% CI) and against N;
- the same fits of the leading-order prediction (`theory.leading_connected`), and an amplitude
  check of the data against it entry by entry (z-scores, Bonferroni 4-SE threshold, chi^2 p-value);
- for the critical ReLU network (sw^2 = 2, sb = 0) the all-orders result
  G4c = 3 K^2 ((1 + 5/N)^L - 1), so the size of the neglected O(L^2/N^2) terms is known.

    python benchmarks/deep_finite_width.py            # ~5 min on 2 idle CPU cores
    python benchmarks/deep_finite_width.py --n-nets 50000 --quick
Writes benchmarks/results/deep_finite_width.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl as nn
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.theory import amplitude_check, fit_width_scaling, leading_connected

X = np.array([[0.7, 0.0]])
#: critical initialisations (chi = sw^2 E[sigma'^2] = 1, no biases): ReLU sw^2 = 2, erf sw^2 = pi/4;
#: each with its depth-scan width, its width-scan depth and widths, and its number of networks (x n-nets)
CONFIGS = {
    "relu_critical": {
        "params": {"activation": "relu", "sw": float(np.sqrt(2.0)), "sb": 0.0, "d": 2},
        "fixed_n": 100,
        "fixed_l": 4,
        "widths": [25, 50, 100, 200, 400],
        "nets": 1,
    },
    "erf_critical": {
        "params": {"activation": "erf", "sw": float(np.sqrt(np.pi / 4)), "sb": 0.0, "d": 2},
        "fixed_n": 40,
        "fixed_l": 4,
        "widths": [20, 40, 80, 160],
        "nets": 2,
    },
}


def measure(params: dict, depth: int, width: int, n_nets: int, key: int) -> dict:
    arch = nn.DeepMLP(depth=depth, width=width, **params)
    ds = ensemble_correlators(arch, X, n_nets, key=key, max_order=4, progress=False)
    lead, err = leading_connected(arch, X, return_error=True)
    k = float(arch.nngp_kernel(X, X)[0, 0])
    row = {
        "depth": depth,
        "width": width,
        "G4c": float(ds.G4c.values[0, 0, 0, 0]),
        "se": float(ds.G4c_se.values[0, 0, 0, 0]),
        "khat": float(ds.G4c_khat.max()),
        "leading": float(lead[0, 0, 0, 0]),
        "leading_err": float(err[0, 0, 0, 0]),
        "K": k,
    }
    if params["activation"] == "relu" and params["sb"] == 0.0 and np.isclose(params["sw"] ** 2, 2.0):
        row["all_orders"] = 3 * k**2 * ((1 + 5 / width) ** depth - 1)
    return row


def fit(rows: list[dict], along: str) -> dict:
    """Log-log fits of the normalised four-point function G4c / K^2 (K the NNGP kernel, exact, so
    the errors stay the estimate's own): against depth its growth is ~ L at criticality, where the
    kernel itself is constant (ReLU) or decays (erf)."""
    x = np.array([r[along] for r in rows], np.float64)
    k2 = np.array([r["K"] ** 2 for r in rows])
    v, se = np.array([r["G4c"] for r in rows]) / k2, np.array([r["se"] for r in rows]) / k2
    lead = np.array([r["leading"] for r in rows]) / k2
    usable = np.array([r["khat"] <= 0.5 for r in rows])
    data = fit_width_scaling(x, v, se, usable=usable)
    theory = fit_width_scaling(x, lead, se)  # the prediction's own log-log slope over the same points
    amp = amplitude_check(
        v, np.hypot(se, np.array([r["leading_err"] for r in rows]) / k2), lead, usable=usable, se_dof=63
    )
    out = {
        "slope": data.slope,
        "slope_ci": [data.ci_low, data.ci_high],
        "theory_slope": theory.slope,
        "amplitude_max_abs_z": amp.max_abs_z,
        "amplitude_threshold": amp.threshold,
        "amplitude_chi2_p": amp.p_value,
        "amplitude_passes": amp.passes,
        "fitted_over_theory_at_median": float(data.predict([np.median(x)])[0] / theory.predict([np.median(x)])[0]),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-nets", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="fewer depths and widths")
    a = ap.parse_args()
    depths = [1, 2, 4, 6] if a.quick else [1, 2, 3, 4, 5, 6]
    results = {}
    t0 = time.time()
    for name, cfg in CONFIGS.items():
        params, fixed_n, fixed_l, n = cfg["params"], cfg["fixed_n"], cfg["fixed_l"], a.n_nets * cfg["nets"]
        widths = cfg["widths"][1:-1] if a.quick else cfg["widths"]
        by_depth = [measure(params, depth, fixed_n, n, key=10 + depth) for depth in depths]
        by_width = [measure(params, fixed_l, width, n, key=100 + width) for width in widths]
        results[name] = {
            "params": params,
            "by_depth": by_depth,
            "by_width": by_width,
            "depth_fit": fit(by_depth, "depth"),
            "width_fit": fit(by_width, "width"),
        }
        head = f"depth scan at N = {fixed_n}, width scan at L = {fixed_l}, {n} networks each"
        print(f"\n== {name} {params}: {head}")
        for r in by_depth + by_width:
            extra = ""
            if "all_orders" in r:
                z_all = (r["G4c"] - r["all_orders"]) / r["se"]
                extra = f"  all-orders {r['all_orders']:.5f} (z {z_all:+.2f})"
            z = (r["G4c"] - r["leading"]) / np.hypot(r["se"], r["leading_err"])
            print(
                f"  L={r['depth']} N={r['width']:<4d} G4c {r['G4c']:.5f} ± {r['se']:.5f} (k̂ {r['khat']:.2f})"
                f"  leading {r['leading']:.5f}  z {z:+.2f}{extra}"
            )
        for what in ("depth_fit", "width_fit"):
            f = results[name][what]
            print(
                f"  {what} of G4c/K^2: slope {f['slope']:.3f} [{f['slope_ci'][0]:.3f}, {f['slope_ci'][1]:.3f}] "
                f"(theory {f['theory_slope']:.3f}); amplitude vs leading order: max|z| {f['amplitude_max_abs_z']:.2f} "
                f"(threshold {f['amplitude_threshold']:.2f}), chi2 p {f['amplitude_chi2_p']:.3f}, "
                f"fit/theory at the median {f['fitted_over_theory_at_median']:.3f}"
            )
    results["seconds"] = time.time() - t0
    out = Path(__file__).parent / "results" / "deep_finite_width.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {out} ({results['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
