"""Closing the loop by sampling (issue 15, item 5): the effective theory (the NNGP Gaussian ensemble on the
cutoff box deformed by the inferred local (lam/4!) :phi^4:) sampled with deform's NUTS, its G2, G4c, G6c
(Schwinger-Dyson estimators) against the ensemble's, tuple by tuple in SE (Bonferroni 4 SE).

    PYTHONPATH=. python benchmarks/action_sampled_loop.py [chains] [draws]

Cases: CosNet and GaussNet against their exact correlators at several widths (where lam^2 shows up),
CosNet against Monte Carlo correlators (jackknife), and ReLUNet at width 20 (the paper's case; no exact
G4c, non-stationary kernel: no counterterm, G4c only) against Monte Carlo.
"""

from __future__ import annotations

import sys
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np
from scipy import stats

import nnft_ppl as nn
from nnft_ppl import action as A
from nnft_ppl._errors import NNFTNumericalError

X2 = np.array([-0.25, 0.25])
X3 = np.array([-0.5, 0.0, 0.5])


def one(label, arch, corr, xs, cutoff, chains, draws, *, counterterm=True, orders=(2, 4, 6), n_quad=4):
    t0 = time.time()
    lc = A.local_coupling(corr, arch, cutoff, n_quad=n_quad)
    quad = A.cutoff_quadrature(xs[:, None], cutoff, n_quad)
    six = 6 in orders and xs.shape[0] <= 3
    try:
        th = A.sample_effective(
            arch,
            [lc.mean],
            xs[:, None],
            quad,
            11,
            counterterm=counterterm,
            orders=(4, 6) if six else (4,),
            num_chains=chains,
            num_samples=draws,
            num_warmup=400,
            chain_method="vectorized",
        )[0]
    except NNFTNumericalError as err:
        print(f"## {label}: {lc.summary()}\n  NOT SAMPLED: {err}\n")
        return
    cl = A.close_loop_sampled(corr, arch, lc, th, orders=orders)
    print(f"## {label} ({time.time() - t0:.0f} s; {len(quad.weights)} nodes, max |phi|/sd {th.max_abs_phi:.2f})")
    print(" ", lc.summary())
    print(" ", cl.summary())
    g4 = cl.g4
    rel = np.median(g4.effective_se / np.abs(g4.effective))
    plain = np.median(th.g4c_plain.se / np.abs(g4.effective))
    print(f"  G4c: measured {np.round(g4.measured, 6)}\n       sampled  {np.round(g4.effective, 6)}")
    print(f"       z {np.round(g4.z, 2)}; median relative SE: Schwinger-Dyson {rel:.3f}, plain cumulant {plain:.3f}")
    if cl.g6 is not None:
        print(
            f"  G6c: measured {np.round(cl.g6.measured, 6)}\n       sampled {np.round(cl.g6.effective, 6)}"
            f" ± {np.round(cl.g6.effective_se, 6)}"
        )
    print()


def calibrate(
    width: int = 64, groups: int = 24, per: int = 8, draws: int = 500, warmup: int = 400, chain_se: bool = True
) -> dict:
    """SE calibration: one run of groups x per chains split into independent replicas; z of each replica's
    Schwinger-Dyson G4c against the pooled estimate, with its own SE (the k-hat of the degree-6 terms
    is ~ 1, so the SEs are checked this way). `chain_se`: also the between-chain SE of each replica.
    The test's own size is `calibrate(groups=64, per=16, draws=1000, warmup=300, chain_se=False)`."""
    from nnft_ppl import deform
    from nnft_ppl.action._sampled import _estimate

    arch = nn.CosNet(width=width)
    ex = A.exact_correlators(arch, X2, orders=(4,), full=False)
    lc = A.local_coupling(ex, arch, 3.0, n_quad=4)
    quad = A.cutoff_quadrature(X2[:, None], 3.0, 4)
    model = A.effective_model(arch, lc.mean, quad, X2[:, None])
    t0 = time.time()
    (run,) = deform.sample_scan(
        model,
        X2[:, None],
        5,
        [model.potential],
        num_chains=groups * per,
        num_samples=draws,
        num_warmup=warmup,
        chain_method="vectorized",
    )
    m2 = model.potential.terms[1].m2
    pooled = _estimate(model, run, lc.mean, m2, X2[:, None], (4,), 1e9)

    def chains(sl):
        return run._replace(
            samples={k: v[sl] for k, v in run.samples.items()},
            sample_stats={k: v[sl] for k, v in run.sample_stats.items()},
        )

    zs, zs_chains, khats = [], [], []
    for g in range(groups):
        th = _estimate(model, chains(slice(g * per, (g + 1) * per)), lc.mean, m2, X2[:, None], (4,), 1e9)
        d = th.g4c.value - pooled.g4c.value  # the pooled value contains this replica: (1 - 1/groups)
        zs.append(d / np.sqrt(th.g4c.se**2 * (1 - 1 / groups)))
        khats.append(th.khat[4])
        if not chain_se:
            continue
        # the alternative SE: the spread of the replica's single-chain estimates (per - 1 dof)
        one = [
            _estimate(model, chains(slice(c, c + 1)), lc.mean, m2, X2[:, None], (4,), 1e9)
            for c in range(g * per, (g + 1) * per)
        ]
        se_chains = np.std([o.g4c.value for o in one], axis=0, ddof=1) / np.sqrt(per)
        zs_chains.append(d / np.sqrt(se_chains**2 * (1 - 1 / groups)))
    z, zc = np.asarray(zs), np.asarray(zs_chains)
    q = stats.t.ppf(0.975, per - 1)
    # replicas are independent; a replica's tuples are not: binomial errors over replicas (conservative)
    cover = np.abs(z) < 1.96
    out = {
        "replicas": groups,
        "chains": per,
        "draws": draws,
        "mean_z2": float(np.mean(z**2)),
        "mean_z2_se": float(np.std(np.mean(z**2, axis=1), ddof=1) / np.sqrt(groups)),
        "coverage_95": float(np.mean(cover)),
        "coverage_se": float(np.sqrt(0.95 * 0.05 / groups)),
        "p_abs_z_gt_3": float(np.mean(np.abs(z) > 3)),
        "khat_median": float(np.median(khats)),
    }
    print(out)
    print(
        f"## SE calibration, CosNet N={width}: {groups} replicas of {per} chains x {draws} draws "
        f"({time.time() - t0:.0f} s)"
    )
    print(
        f"  mean z^2 = {np.mean(z**2):.2f} ± {np.std(z**2) / np.sqrt(z.size):.2f} over {z.size} (replica, tuple); "
        f"mean z = {np.mean(z):.2f}; P(|z| > 3) = {np.mean(np.abs(z) > 3):.3f}; "
        f"median k-hat {np.median(khats):.2f}; 95% coverage {np.mean(np.abs(z) < 1.96):.3f}"
    )
    if not chain_se:
        return out
    print(
        f"  between-chain SE ({per} chains, t_{per - 1}): mean z^2 = {np.mean(zc**2):.2f} "
        f"± {np.std(zc**2) / np.sqrt(zc.size):.2f} (t_{per - 1} expects {(per - 1) / (per - 3):.2f}); "
        f"95% coverage {np.mean(np.abs(zc) < q):.3f}; P(|z| > 3) = {np.mean(np.abs(zc) > 3):.3f}"
    )
    print(
        f"  pooled: G4c / first order = {np.round(pooled.g4c.value / ex.connected[4].value, 3)} "
        f"± {np.round(pooled.g4c.se / ex.connected[4].value, 3)}\n"
    )
    return out


def main(chains: int = 32, draws: int = 2000) -> None:
    calibrate()
    for width in (8, 16, 32, 64, 128):
        arch = nn.CosNet(width=width)
        ex = A.exact_correlators(arch, X2, orders=(4, 6), full=False)
        one(f"CosNet N={width}, exact input, x={list(X2)}", arch, ex, X2, 3.0, chains, draws)
    for width in (16, 64):
        arch = nn.GaussNet(width=width, sb=1e-3)
        ex = A.exact_correlators(arch, X2, orders=(4, 6), full=False)
        one(f"GaussNet N={width} (sb=1e-3), exact input, x={list(X2)}", arch, ex, X2, 3.0, chains, draws)
    arch = nn.CosNet(width=16)
    ex = A.exact_correlators(arch, X3, orders=(4, 6), full=False)
    one(f"CosNet N=16, exact input, x={list(X3)}", arch, ex, X3, 3.5, chains, draws)
    mc = A.measure(arch, X3, 400_000, key=7, orders=(4, 6), progress=False)
    one(f"CosNet N=16, 400k networks, x={list(X3)}", arch, mc, X3, 3.5, chains, draws)
    arch = nn.ReLUNet(width=20)
    xr = np.array([-1.0, -0.5, 0.5, 1.0])
    mc = A.measure(arch, xr, 400_000, key=2026, orders=(4,), progress=False)
    one(
        "ReLUNet N=20 (paper), 400k networks, no counterterm, G4c only",
        arch,
        mc,
        xr,
        5.0,
        chains,
        draws,
        counterterm=False,
        orders=(4,),
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
