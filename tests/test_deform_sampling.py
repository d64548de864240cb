"""Statistical acceptance tests of the deformed ensembles (fixed keys; tolerances in MC standard errors,
Bonferroni-corrected over the distinct tensor entries compared)."""

from pathlib import Path

import jax
import numpy as np
import pytest
import xarray as xr
from arviz_conventions import check_tree

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
    return arch, model, run


#: the phi4 couplings: the suite runs the first two (CI_LAMS); benchmarks/studies/test_phi4_lam2.py runs all
#: eight (one compiled scan, the same key: jax.random.split is prefix-stable, so the first two runs are the
#: suite's, bit for bit), the rest resolving the lam^2 growth of the deviation from first order
LAMS = (0.25, 0.5, 0.1, 0.2, 0.3, 0.4, 0.75, 1.0)
CI_LAMS = LAMS[:2]


def phi4_scan(lams):
    """Width-32 CosNet, one compiled scan over `lams`. At lam = 0.5 the first-order shift of
    <phi^2> is ~4-6 SE and its second-order correction ~0.5 SE; the G4c correction at lam = 0.5 is
    ~30% of first order (~0.5 SE; measured by reweighting 6e5 prior draws), at lam = 0.25 < 0.1 SE,
    so G4c is checked at lam = 0.25."""
    arch = nf.CosNet(width=32, d=1, sw=1.0, sa=1.0)
    quad = D.make_quadrature(BOX, 8)
    model = D.deform(arch, D.Phi4(0.5), quad)
    runs = D.sample_scan(
        model, X, jax.random.PRNGKey(7), [D.Phi4(v) for v in lams], num_warmup=400, num_samples=700, num_chains=8
    )
    return arch, quad, model, runs


def test_free_theory_reproduces_prior(free_run, tmp_path):
    arch, model, run = free_run
    _check_recipe_tree(run, tmp_path)
    diag = _gate(run)
    assert diag.rhat_max <= 1.01 and diag.divergences == 0, diag
    phi = run.samples["phi"]
    g2 = D.mcmc_moments(phi, 2)
    z2, n2 = _max_z(g2, np.asarray(arch.nngp_kernel(X, X)), 2)
    assert z2 < se_threshold(n2, 3.0), z2
    g4 = D.connected4(phi)
    exact = D.base_connected4(arch, X)
    z4, n4 = _max_z(g4, exact, 4)
    assert z4 < se_threshold(n4, 3.0), z4
    # the comparison has power: dropping the exact finite-width G4c would be a > 3 SE shift
    assert exact[1, 1, 1, 1] > 3.0 * g4.se[1, 1, 1, 1]
    _check_schwinger_dyson_free(arch, model, run)


def _check_recipe_tree(run, tmp_path):
    """The deform recipes' merged results.nc, as the double-well recipe writes it (`double_well_tree`,
    `save`) and read back, follows ArviZ's conventions (group per run, sample_stats, dims, attrs)."""
    from nnft_ppl.deform.recipes import double_well_tree

    tree, _ = double_well_tree(run)
    D.save(tree, tmp_path / "results.nc")
    back = xr.open_datatree(tmp_path / "results.nc", engine="h5netcdf")
    check_tree(back, plots=False)
    assert set(back.children) == {"double_well"} and back.attrs["architecture"] == "CosNet"


def _check_schwinger_dyson_free(arch, model, run):
    """At lam = 0 the Schwinger-Dyson estimate of <phi^2> is the exact free value, and its
    lam-derivative the exact finite-width first-order shift: the width-4 vertex correction
    (O(1/N) G4c and O(1/N^2) G6c terms) is 52% of the diagram, ~10 SE, so the diagram alone fails."""
    q = D.phi2_response(model, run, 0.0)
    free = np.trace(np.asarray(arch.nngp_kernel(X, X))) / X.shape[0]
    exact = np.mean(D.first_order_phi2_exact(arch, 1.0, model.quad, X))
    diagram = np.trace(D.first_order_dg2(arch, 1.0, model.quad, X)) / X.shape[0]
    thr = se_threshold(2, 3.0)
    assert abs(q.value - free) < thr * q.se and abs(q.slope - exact) < thr * q.slope_se, (q, free, exact)
    assert abs(exact - diagram) > 4.0 * q.slope_se, (exact, diagram, q.slope_se)
    # and its value has the smaller error it is meant to have (the readout is integrated out)
    assert q.se < 0.5 * q.plain_se, q


def test_phi4_first_order_odd_zero_and_datatree():
    """The two-coupling slice of the phi4 study (benchmarks/studies/test_phi4_lam2.py adds the lam^2 fit)."""
    arch, quad, model, runs = phi4_scan(CI_LAMS)
    check_phi4_runs(arch, quad, runs)


def check_phi4_runs(arch, quad, runs):
    """Clean diagnostics for every run; G4c at lam = 0.25, first order at 0.5, odd correlators, DataTree."""
    for r in runs:
        diag = _gate(r)
        assert diag.rhat_max <= 1.01, diag
        assert diag.divergences == 0, diag
    run_small, run = runs[0], runs[1]
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
    g2 = D.mcmc_moments(phi, 2)
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
        est = D.mcmc_moments(phi, order)
        idx = D.unique_entries(X.shape[0], order)
        z = np.abs(est.value / est.se)[idx]
        assert z.max() < se_threshold(z.size, 3.0), (order, z)


def _check_datatree(run):
    """DataTree layout, metadata, and the gate flagging a too-short run."""
    dt = D.attach(D.to_datatree(run), _gate(run))
    assert dt["posterior"]["phi"].dims == ("chain", "draw", "point")
    np.testing.assert_array_equal(dt["posterior"]["point"].values, X[:, 0])  # the points as coordinates
    assert dt.attrs["arch_width"] == 32 and dt["constant_data"]["quadrature_weights"].size == 8
    check_tree(dt, var_names=["phi", "S_int_value"])
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


def test_phi4_recipe_results_follow_the_conventions(tmp_path):
    """The phi4 recipe at `--small` size writes a merged results.nc (a group per lam and `/scan`) that
    ArviZ reads: named dims, point coordinates, sample_stats, params and version (issue 11)."""
    from nnft_ppl.recipes import run_recipe

    root = Path(__file__).resolve().parent.parent
    run_recipe(root / "inference" / "phi4_cosnet.toml", tmp_path / "phi4", progress=False, small=True)
    back = xr.open_datatree(tmp_path / "phi4" / "results.nc")
    assert "scan" in back.children and sum(name.startswith("lam_") for name in back.children) >= 4
    check_tree(back, plots=False)
