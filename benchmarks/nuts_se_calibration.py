"""Are the ESS-based Monte Carlo standard errors of NUTS correlators calibrated?

The lam = 0 deformed model is the prior, whose G2 (the NNGP kernel) and connected G4c (exact finite
width) are known. One compiled vectorized run of R x C chains is split into R independent replicas of C
chains (the test fixture's layout: CosNet width 4, 3 points, C = 8); per replica and distinct entry
z = (estimate - exact) / SE. Calibrated SEs give var(z) = 1 per entry, P(|z| > 3) = 0.27%, and a
replica's max |z| over the 15 (6) entries of G4c (G2) exceeding the Bonferroni threshold at the rate of
one 3 SE comparison (0.27%).

    python benchmarks/nuts_se_calibration.py --replicas 64          # ~2 min on 2 CPU cores
    python benchmarks/nuts_se_calibration.py --replicas 96 --samples 500 --warmup 400
"""

from __future__ import annotations

import argparse
import sys
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import jax
import numpy as np
from scipy import stats as st

import nnft_ppl as nf
from nnft_ppl import deform as D
from nnft_ppl.stats import se_threshold

X = np.array([[-0.5], [0.0], [0.5]])


def replica_z(phi: np.ndarray, arch, estimators: dict) -> dict:
    """(estimate - exact, SE) per distinct entry for each estimator on one replica's draws (chains, draws, P)."""
    k = np.asarray(arch.nngp_kernel(X, X))
    exact = {2: k, 4: D.base_connected4(arch, X)}
    out = {}
    for name, (fn, order) in estimators.items():
        est = fn(phi)
        idx = D.unique_entries(X.shape[0], order)
        out[name] = ((est.value - exact[order])[idx], est.se[idx])
    return out


def summarise(name: str, diff: np.ndarray, se: np.ndarray, n_sigma: float = 3.0) -> None:
    """diff (estimate - exact) and se have shape (replicas, entries)."""
    z = diff / se
    r, n = z.shape
    var = z.var(axis=0, ddof=1)  # per entry, across replicas
    pooled = float(np.mean(z**2))
    # the pooled mean of z^2: its SE from the replica-to-replica scatter of the per-replica mean z^2
    pooled_se = float(np.std(np.mean(z**2, axis=1), ddof=1) / np.sqrt(r))
    thr = se_threshold(n, n_sigma)
    fails = int(np.sum(np.max(np.abs(z), axis=1) > thr))
    tail3 = float(np.mean(np.abs(z) > 3.0))
    tail2 = float(np.mean(np.abs(z) > 2.0))
    ks = st.kstest(z.ravel(), "norm")
    print(
        f"{name}: {r} replicas x {n} entries; mean z {z.mean():+.3f} (per-entry |mean| max "
        f"{np.max(np.abs(z.mean(0))):.2f}); mean z^2 {pooled:.3f} +- {pooled_se:.3f}; per-entry var(z) "
        f"{var.min():.2f}..{var.max():.2f} (one entry's var has SE ~{np.sqrt(2 / (r - 1)):.2f})"
    )
    print(
        f"   P(|z|>2) {tail2:.4f} (normal 0.0455), P(|z|>3) {tail3:.4f} (normal 0.0027); "
        f"max |z| {np.abs(z).max():.2f}; replicas with max|z| > {thr:.2f} (Bonferroni {n_sigma:g} SE): {fails} "
        f"(expect {r * 2 * st.norm.sf(n_sigma):.2f}); "
        f"KS vs N(0,1) p = {ks.pvalue:.3g} (entries correlated: indicative)"
    )
    # is the SE's size right (scatter of the estimates across replicas vs the quoted SE), is the estimator
    # itself biased, and does the SE move with the estimate (heavy tails: a high estimate comes with a big SE)?
    scatter = diff.std(axis=0, ddof=1)
    rms_se = np.sqrt(np.mean(se**2, axis=0))
    bias_t = diff.mean(axis=0) / (scatter / np.sqrt(r))
    corr = [np.corrcoef(diff[:, j], se[:, j])[0, 1] for j in range(n)]
    print(
        f"   replica scatter / rms SE per entry {np.min(scatter / rms_se):.2f}..{np.max(scatter / rms_se):.2f} "
        f"(median {np.median(scatter / rms_se):.2f}; one entry's ratio has SE ~{1 / np.sqrt(2 * (r - 1)):.2f}); "
        f"estimator bias / its SE {bias_t.min():+.1f}..{bias_t.max():+.1f}; corr(estimate, SE) "
        f"{np.min(corr):+.2f}..{np.max(corr):+.2f}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicas", type=int, default=64)
    ap.add_argument("--chains", type=int, default=8, help="chains per replica")
    ap.add_argument("--warmup", type=int, default=400)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--width", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", default=None, help="write the z arrays to this .npz")
    a = ap.parse_args(argv)
    arch = nf.CosNet(width=a.width, d=1, sw=1.0, sa=1.0)
    model = D.deform(arch, D.Phi4(0.0), D.make_quadrature((-1.0, 1.0), 6))
    t0 = time.perf_counter()
    run = D.sample_deformed(
        model,
        X,
        jax.random.PRNGKey(a.seed),
        num_warmup=a.warmup,
        num_samples=a.samples,
        num_chains=a.replicas * a.chains,
        chain_method="vectorized",
    )
    print(
        f"{a.replicas} replicas x {a.chains} chains x ({a.warmup} + {a.samples}) in {time.perf_counter() - t0:.0f} s; "
        f"divergences {int(run.sample_stats['diverging'].sum())}"
    )
    phi = run.samples["phi"].reshape((a.replicas, a.chains) + run.samples["phi"].shape[1:])
    estimators = {"G2 (moments)": (lambda p: D.mcmc_moments(p, 2), 2), "G4c (connected4)": (D.connected4, 4)}
    res = {k: [] for k in estimators}
    for rep in phi:
        for k, v in replica_z(rep, arch, estimators).items():
            res[k].append(v)
    # the Schwinger-Dyson <phi^2> (point average) and its lam-derivative at lam = 0 against the exact free
    # value and the exact finite-width first-order shift
    reps = [
        run._replace(samples={k: v[r * a.chains : (r + 1) * a.chains] for k, v in run.samples.items()})
        for r in range(a.replicas)
    ]
    resp = D.phi2_responses(model, reps, [0.0] * a.replicas)
    free = float(np.trace(np.asarray(arch.nngp_kernel(X, X))) / X.shape[0])
    slope = float(np.mean(D.first_order_phi2_exact(arch, 1.0, model.quad, X)))
    res["SD <phi^2>, d/dlam"] = [
        (np.array([q.value - free, q.slope - slope]), np.array([q.se, q.slope_se])) for q in resp
    ]
    for k, v in res.items():
        summarise(k, *np.moveaxis(np.asarray(v), 1, 0))
    if a.save:
        np.savez(a.save, phi=phi, **{k.split()[0]: np.asarray(v) for k, v in res.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
