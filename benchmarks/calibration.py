"""Calibration over seeds of the library's error bars (issue 9 item 4).

Ensemble estimators: for G2, G4c and G6c (smeared over the points: sum over every tensor entry) of
every zoo entry with exact cumulants (the i.i.d.-neuron architectures of the registry and
LinearFeatures with uniform weights), over --seeds independent replicas of --per-seed networks with
a --blocks-block jackknife each: the coverage of the 95% intervals (estimate ± t_{0.975, B-1} SE
against `theory.exact_connected`) with its binomial error, the distribution of z (mean, sd,
P(|z| > 3)) and the k-hat of the order's summands (median over seeds of each seed's own k-hat, and
pooled over all networks). Calibrated error bars give coverage 0.95 and z ~ N(0, 1) (t_{B-1}).

MCMC: the same for the ESS-based errors of `nnft_ppl.deform` NUTS on the free theory (lam = 0
CosNet, the set-up and machinery of `benchmarks/nuts_se_calibration.py`): --mcmc-replicas
independent replicas of 8 vectorised chains, coverage of estimate ± 1.96 SE for G2 and G4c per
distinct entry (averaged over entries; the binomial error uses the replica count, conservative as
entries are correlated).

    python benchmarks/calibration.py                      # ~10 min on 2 CPU cores
    python benchmarks/calibration.py --per-seed 4096 --skip-mcmc
Writes benchmarks/results/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nuts_se_calibration as nsc  # noqa: E402

from nnft_ppl.width_scaling._calibration import calibrate_ensemble, zoo_entries  # noqa: E402

X = np.array([-0.5, 0.5])


def ensemble_study(a) -> list[dict]:
    rows = []
    for per in a.per_seed:
        for i, (name, arch) in enumerate(zoo_entries(a.width).items()):
            t0 = time.perf_counter()
            cal = calibrate_ensemble(arch, X, a.seeds, per, key=1000 * a.seed + i, n_blocks=a.blocks)
            for c in cal.values():
                row = {"entry": name, "width": a.width, "n_per_seed": per, "n_blocks": a.blocks, **c.summary()}
                row["coverage_at_0.7_se"] = c.coverage(se_scale=0.7)[0]
                rows.append(row)
                print(_line(row), flush=True)
            print(f"   ({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
    return rows


def _line(r: dict) -> str:
    dev = (r["coverage"] - 0.95) / r["coverage_se"]
    return (
        f"{r['entry']:>14} n={r['n_per_seed']:>6} G{r['order']}{'c' if r['order'] > 2 else ' '} "
        f"coverage {r['coverage']:.3f} ± {r['coverage_se']:.3f} ({dev:+.1f} SE) | z mean {r['z_mean']:+.2f} ± "
        f"{r['z_mean_se']:.2f}, sd {r['z_sd']:.2f} ± {r['z_sd_se']:.2f}, P(|z|>3) {r['p_abs_z_gt_3']:.3f} | "
        f"k-hat {r['khat']:.2f} ({r['khat_flag']}), pooled {r['khat_pooled']:.2f}"
    )


def mcmc_study(a) -> list[dict]:
    import jax

    import nnft_ppl as nf
    from nnft_ppl import deform as D

    arch = nf.CosNet(width=4, d=1, sw=1.0, sa=1.0)
    model = D.deform(arch, D.Phi4(0.0), D.make_quadrature((-1.0, 1.0), 6))
    t0 = time.perf_counter()
    run = D.sample_deformed(
        model,
        nsc.X,
        jax.random.PRNGKey(a.seed),
        num_warmup=a.mcmc_warmup,
        num_samples=a.mcmc_samples,
        num_chains=a.mcmc_replicas * 8,
        chain_method="vectorized",
    )
    print(f"NUTS: {a.mcmc_replicas} replicas x 8 chains in {time.perf_counter() - t0:.0f} s", flush=True)
    phi = np.asarray(run.samples["phi"]).reshape((a.mcmc_replicas, 8) + run.samples["phi"].shape[1:])
    estimators = {"G2": (lambda p: D.mcmc_moments(p, 2), 2), "G4c": (D.connected4, 4)}
    per_rep = [nsc.replica_z(rep, arch, estimators) for rep in phi]
    rows = []
    for name in estimators:
        diff = np.asarray([p[name][0] for p in per_rep])
        se = np.asarray([p[name][1] for p in per_rep])
        z = diff / se
        cov_entry = np.mean(np.abs(z) <= 1.959964, axis=0)
        n = z.shape[0]
        row = {
            "estimator": f"NUTS {name}",
            "replicas": n,
            "entries": int(z.shape[1]),
            "draws": f"8 x {a.mcmc_samples}",
            "coverage": float(cov_entry.mean()),
            "coverage_se": float(np.sqrt(0.95 * 0.05 / n)),
            "coverage_per_entry_min": float(cov_entry.min()),
            "z_mean": float(z.mean()),
            "z_mean_se": float(z.mean(1).std(ddof=1) / np.sqrt(n)),
            "z_sd": float(z.std(ddof=1)),
            "p_abs_z_gt_3": float(np.mean(np.abs(z) > 3)),
        }
        rows.append(row)
        print(
            f"{row['estimator']:>10}: coverage {row['coverage']:.3f} ± {row['coverage_se']:.3f} "
            f"(per entry min {row['coverage_per_entry_min']:.3f}) | z mean {row['z_mean']:+.2f} ± "
            f"{row['z_mean_se']:.2f}, sd {row['z_sd']:.2f}, P(|z|>3) {row['p_abs_z_gt_3']:.3f}",
            flush=True,
        )
        nsc.summarise(row["estimator"], diff, se)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=400)
    ap.add_argument("--per-seed", type=int, nargs="+", default=[4096, 32768], help="networks per seed")
    ap.add_argument("--blocks", type=int, default=32, help="jackknife blocks per seed")
    ap.add_argument("--width", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-mcmc", action="store_true")
    ap.add_argument("--mcmc-replicas", type=int, default=200)
    ap.add_argument("--mcmc-warmup", type=int, default=400)
    ap.add_argument("--mcmc-samples", type=int, default=500)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "calibration.json"))
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = {"args": vars(a), "points": X.tolist(), "ensemble": ensemble_study(a)}
    if not a.skip_mcmc:
        res["mcmc"] = mcmc_study(a)
    res["seconds"] = time.perf_counter() - t0
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1, default=float))
    print(f"wrote {a.out} ({res['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
