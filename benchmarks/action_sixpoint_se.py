"""Are the six-point error bars of tests/test_action_paper.py honest, although the k-hat of their summands
reads ~0.6 (above the 0.5 where k-hat stops vouching for an SE)?

Replicas of that test's ensemble (ReLUNet width 20, sigma_b -> 0, x = 0.4, 0.8, 1.2, 100,000 networks,
64-block jackknife), each on its own key: z = (estimate - exact) / SE for G6 and G6c at every sorted
tuple, against the exact finite-width values (`theory.exact_moment`, `theory.exact_connected`). Honest
SEs give mean z^2 = 1 (Student t with 63 dof: 63/61) and 95% coverage at the t quantile; the test's own
risk is a replica whose largest |z| over the 28 tuples exceeds its Bonferroni threshold.

Here phi(x) = x Z with one random Z per network (relu(w x) = x relu(w) for x > 0 and no bias), so the 28
tuples of a replica are one z up to rounding: the tuple (0, 0, 1, 1, 2, 2) stands for them.

Both network-level estimators run on the same keys: the plain one (`network`: sampled readouts, summands
of k-hat ~0.6) and the readout-integrated one (`collapsed`: `ensemble_correlators(..., collapse=True)`,
the Rao-Blackwellised moments given the hidden layer, whose sixth-order summands have k-hat ~0.15).

    PYTHONPATH=. python benchmarks/action_sixpoint_se.py [replicas] [n_nets]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import jax
import numpy as np
from scipy import stats

import nnft_ppl as nn
from nnft_ppl._tensors import sorted_tuples
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.stats import se_threshold
from nnft_ppl.theory import exact_connected, exact_moment

X = np.array([0.4, 0.8, 1.2])
N_BLOCKS = 64


def replica_z(arch, n_nets: int, key: int, exact: dict, collapse: bool) -> dict:
    kw = dict(max_order=6, n_blocks=N_BLOCKS, progress=False, collapse=collapse)
    ds = ensemble_correlators(arch, X, n_nets, key=key, **kw)
    idx = tuple(np.asarray(sorted_tuples(len(X), 6)).T)
    out = {"khat": float(ds["G6c_khat"])}
    for name in ("G6", "G6c"):
        z = (ds[name].values[idx] - exact[name][idx]) / ds[f"{name}_se"].values[idx]
        out[name] = float(z[_rep(idx)])
        out[f"{name}_max"] = float(np.max(np.abs(z)))
    return out


def _rep(idx) -> int:
    """The position of the tuple (0, 0, 1, 1, 2, 2) among the sorted tuples."""
    tuples = list(zip(*idx, strict=True))
    return tuples.index((0, 0, 1, 1, 2, 2))


def summarise(z: np.ndarray, maxes: np.ndarray, dof: int) -> dict:
    q = stats.t.ppf(0.975, dof)
    z2 = z**2
    return {
        "mean_z2": float(z2.mean()),
        "mean_z2_se": float(z2.std(ddof=1) / np.sqrt(z.size)),
        "mean_z2_expected": dof / (dof - 2),
        "coverage_95": float(np.mean(np.abs(z) <= q)),
        "coverage_se": float(np.sqrt(0.95 * 0.05 / z.size)),
        "p_abs_z_gt_3": float(np.mean(np.abs(z) > 3)),
        "p_abs_z_gt_3_expected": float(2 * stats.t.sf(3, dof)),
        "z_mean": float(z.mean()),
        "z_mean_se": float(z.std(ddof=1) / np.sqrt(z.size)),
        "test_failures": float(np.mean(maxes > se_threshold(28))),
    }


def main(replicas: int = 200, n_nets: int = 100_000) -> dict:
    jax.config.update("jax_enable_x64", True)
    arch = nn.ReLUNet(width=20, sb=1e-8)
    exact = {"G6": np.asarray(exact_moment(arch, X, 6)), "G6c": np.asarray(exact_connected(arch, X, 6))}
    out = {"replicas": replicas, "n_nets": n_nets, "n_blocks": N_BLOCKS}
    for estimator, collapse in (("network", False), ("collapsed", True)):
        t0 = time.time()
        rows = [replica_z(arch, n_nets, 10_000 + r, exact, collapse) for r in range(replicas)]
        res = {"elapsed_s": time.time() - t0, "khat_median": float(np.median([r["khat"] for r in rows]))}
        for name in ("G6", "G6c"):
            z = np.array([r[name] for r in rows])
            res[name] = summarise(z, np.array([r[f"{name}_max"] for r in rows]), N_BLOCKS - 1)
        out[estimator] = res
    print(json.dumps(out, indent=1))
    path = Path(__file__).parent / "results" / "action_sixpoint_se.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
