"""Statistical acceptance tests of the deformed ensembles (fixed keys; tolerances in MC standard errors,
Bonferroni-corrected over the distinct tensor entries compared)."""

import jax
import numpy as np
import pytest

import nnft_ppl as nf
from nnft_ppl import deform as D
from nnft_ppl.stats import se_threshold

X = np.array([[-0.5], [0.0], [0.5]])
BOX = (-1.0, 1.0)


def _gate(run):
    dt = D.to_datatree(run)
    return D.diagnose(dt)


def _max_z(est, ref, order):
    idx = D.unique_entries(X.shape[0], order)
    z = np.abs((est.value - ref) / est.se)[idx]
    return float(z.max()), z.size


@pytest.fixture(scope="module")
def free_run():
    """lam = 0: NUTS must reproduce the prior. Width 4 so the exact 1/N G4c is large enough to matter.

    8 x 2500 draws (key 11, the test's original key, chosen before this run size): with 8 x 500 the
    width-4 G4c check passed for only 52-68% of keys (benchmarks/nuts_se_calibration.py, 2 x 96
    replicas): its SE is right on average but heavy-tailed (the power assertion below failed for
    27-44%) and z = (G4c - exact)/SE is skewed (corr(estimate, SE) = 0.6-0.8, P(|z| > 3) = 4% instead
    of 0.27%). At 8 x 1500 draws (64 replicas) all z checks passed and P(|z| > 3) = 1.7%; 2500 draws
    keep the power check's SE below exact/3 with margin (its 99% quantile at 1500 draws is 0.030)."""
    arch = nf.CosNet(width=4, d=1, sw=1.0, sa=1.0)
    model = D.deform(arch, D.Phi4(0.0), D.make_quadrature(BOX, 6))
    run = D.sample_deformed(model, X, jax.random.PRNGKey(11), num_warmup=400, num_samples=2500, num_chains=8)
    return arch, run


@pytest.fixture(scope="module")
def phi4_run():
    """Width-32 CosNet, one compiled scan over lam = 0.25, 0.5. At lam = 0.5 the first-order shift of
    <phi^2> is ~4-6 SE and its second-order correction ~0.5 SE; the G4c correction at lam = 0.5 is
    ~30% of first order (~0.5 SE; measured by reweighting 6e5 prior draws), at lam = 0.25 < 0.1 SE,
    so G4c is checked at lam = 0.25."""
    arch = nf.CosNet(width=32, d=1, sw=1.0, sa=1.0)
    quad = D.make_quadrature(BOX, 8)
    model = D.deform(arch, D.Phi4(0.5), quad)
    runs = D.sample_scan(
        model, X, jax.random.PRNGKey(7), [D.Phi4(0.25), D.Phi4(0.5)], num_warmup=400, num_samples=700, num_chains=8
    )
    return arch, quad, runs


def test_free_theory_reproduces_prior(free_run):
    arch, run = free_run
    diag = _gate(run)
    assert diag.rhat_max <= 1.01 and diag.divergences == 0, diag
    phi = run.samples["phi"]
    g2 = D.moments(phi, 2)
    z2, n2 = _max_z(g2, np.asarray(arch.nngp_kernel(X, X)), 2)
    assert z2 < se_threshold(n2, 3.0), z2
    g4 = D.connected4(phi)
    exact = D.base_connected4(arch, X)
    z4, n4 = _max_z(g4, exact, 4)
    assert z4 < se_threshold(n4, 3.0), z4
    # the comparison has power: dropping the exact finite-width G4c would be a > 3 SE shift
    assert exact[1, 1, 1, 1] > 3.0 * g4.se[1, 1, 1, 1]


def test_phi4_first_order_odd_zero_and_datatree(phi4_run):
    """One test per expensive run (pytest -n 2 would otherwise repeat the module fixture per worker)."""
    arch, quad, (run_small, run) = phi4_run
    for r in (run_small, run):
        diag = _gate(r)
        assert diag.rhat_max <= 1.01, diag
        assert diag.divergences == 0, diag
    _check_g4c(arch, quad, run_small, 0.25)
    _check_first_order(arch, quad, run)
    _check_odd_zero(run)
    _check_datatree(run)


def _check_g4c(arch, quad, run, lam):
    """G4c = exact base G4c - lam integral GGGG within 3 SE (Bonferroni over the distinct entries)."""
    g4 = D.connected4(run.samples["phi"])
    z4, n4 = _max_z(g4, D.base_connected4(arch, X) + D.first_order_g4c(arch, lam, quad, X), 4)
    assert z4 < se_threshold(n4, 3.0), z4


def _check_first_order(arch, quad, run):
    """dG2 = -(lam/2) integral G G(z,z) G at lam = 0.5, entrywise and for the point-averaged <phi^2>."""
    lam = 0.5
    phi = run.samples["phi"]
    k = np.asarray(arch.nngp_kernel(X, X))
    g2 = D.moments(phi, 2)
    z2, n2 = _max_z(g2, k + D.first_order_dg2(arch, lam, quad, X), 2)
    assert z2 < se_threshold(n2, 3.0), z2
    # one scalar with the most power: the point-averaged <phi^2>; agrees with first order within 3 SE ...
    box = D.mean_with_se((phi**2).mean(-1))
    pred = np.trace(k + D.first_order_dg2(arch, lam, quad, X)) / X.shape[0]
    assert abs(box.value - pred) < 3.0 * box.se, (box, pred)
    # ... the check has power: first order and the free theory are > 4 SE apart, so a sampler that
    # ignored the factor (or a diagram with the wrong sign or factor) would fail the line above ...
    free = np.trace(k) / X.shape[0]
    assert abs(pred - free) > 4.0 * box.se, (box, pred, free)
    # ... and the sampled shift has the diagram's sign
    assert box.value < free, (box, free)


def _check_odd_zero(run):
    """phi^4 leaves the odd correlators at zero within errors."""
    phi = run.samples["phi"]
    for order in (1, 3):
        est = D.moments(phi, order)
        idx = D.unique_entries(X.shape[0], order)
        z = np.abs(est.value / est.se)[idx]
        assert z.max() < se_threshold(z.size, 3.0), (order, z)


def test_phi3_breaks_z2():
    arch = nf.CosNet(width=16, d=1, sw=1.0, sa=1.0)
    quad = D.make_quadrature(BOX, 6)
    model = D.deform(arch, D.Phi3(1.0) + D.Phi4(1.0), quad)
    run = D.sample_deformed(model, X[1:2], jax.random.PRNGKey(3), num_warmup=300, num_samples=300, num_chains=4)
    phi = run.samples["phi"][..., 0]
    for power in (1, 3):
        est = D.mean_with_se(phi**power)
        assert abs(est.value) > 5.0 * est.se, (power, est)
    # and its sign is the one of the tadpole diagram: kappa > 0 pushes <phi> negative
    assert D.mean_with_se(phi).value < 0 and D.first_order(arch, D.Phi3(1.0), quad, X[1:2], 1)[0] < 0


def _check_datatree(run):
    """DataTree layout, metadata, and the gate flagging a too-short run."""
    dt = D.attach(D.to_datatree(run), _gate(run))
    assert dt["posterior"]["phi"].dims == ("chain", "draw", "point")
    assert {"diverging", "acceptance_rate", "n_steps"} <= set(dt["sample_stats"].data_vars)
    assert dt.attrs["quadrature_rule"] == "gauss-legendre" and dt.attrs["diagnostics_ok"] == 1
    # a deliberately too-short run is flagged
    short = run._replace(
        samples={k: v[:, :20] for k, v in run.samples.items()},
        sample_stats={k: v[:, :20] for k, v in run.sample_stats.items()},
    )
    bad = _gate(short)
    assert not bad.ok and any("ESS" in f for f in bad.flags)
    assert "WARNING" in D.report(bad)
