"""Six-point prediction, the constancy test's calibration, and the running_coupling recipe (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import action as A
from nnft_ppl.ensemble import Estimate
from nnft_ppl.recipes import load_recipe, run_recipe
from nnft_ppl.theory import exact_connected
from tests.arviz_conventions import check_tree

X = np.array([-0.5, 0.1, 0.7])


def test_six_point_bookkeeping_is_exact():
    """With exact correlators, measured G6 - Wick6(K) minus the 15-term sum over the exact G4c is the
    exact G6c (to 1e-12): the pairings, tuples and Wick sum are right."""
    arch = nn.CosNet(width=4)
    ex = A.exact_correlators(arch, X, orders=(4, 6))
    sp = A.six_point_prediction(ex, arch, A.local_coupling(ex, arch, 3.0))
    g6c = exact_connected(arch, X, 6)
    np.testing.assert_allclose(sp.measured - sp.from_g4c, g6c[tuple(sp.tuples.T)], rtol=0, atol=1e-12)
    assert np.all(sp.measured_se == 0)


def _synthetic(arch, lam0: float, cutoff: float, seed: int, n_blocks: int = 64) -> A.Correlators:
    """Correlators whose G4c is exactly local (-lam0 I_t) plus correlated jackknife-like noise."""
    base = A.exact_correlators(arch, X, orders=(4,), n_blocks=n_blocks, full=False)
    tl = np.asarray(nn.ensemble.sorted_tuples(3, 4))
    integral = A.vertex_integrals(arch, X[:, None], tl, A.cutoff_quadrature(X[:, None], cutoff))
    value = -lam0 * integral
    rng = np.random.default_rng(seed)
    chol = rng.normal(size=(len(tl), len(tl))) / np.sqrt(len(tl)) * 0.05 * np.abs(value).mean()  # Sigma = L L^T
    observed = value + chol @ rng.normal(size=len(tl))  # the estimate's own error, covariance Sigma
    e = rng.normal(size=(n_blocks, len(tl))) @ chol.T / np.sqrt(n_blocks - 1)  # jackknife covariance ~ Sigma
    est = Estimate(observed, observed + e - e.mean(0))
    return base._replace(connected={**base.connected, 4: est}, source="synthetic")


def test_constancy_test_does_not_reject_a_local_coupling():
    """Where G4c is exactly -lam0 I_t (plus correlated noise), Hotelling's test keeps one coupling over
    fixed seeds (p > 1e-3 each) and the weighted mean is lam0 within 4 SE; the same noise on a non-local G4c
    (CosNet's) is rejected (test_action.py::test_constancy_test_has_power)."""
    arch = nn.CosNet(width=4)
    for seed in range(3):
        lc = A.local_coupling(_synthetic(arch, 0.3, 3.0, seed), arch, 3.0, tuples=nn.ensemble.sorted_tuples(3, 4)[:12])
        assert lc.p_value > 1e-3, lc.summary()
        assert abs(lc.mean - 0.3) < 4 * lc.mean_se, lc.summary()


RECIPE = "inference/running_coupling.toml"
TINY = [
    ("architectures", [{"name": "CosNet", "params": {"width": 4}}]),
    ("points.x", [-0.5, 0.1, 0.7]),
    ("sampling.n_nets", 20_000),
    ("running.cutoff_min", 2.0),
    ("running.cutoff_max", 20.0),
    ("running.n_cutoffs", 3),
    ("six_point.cutoff", 3.0),
]


def test_recipe_checks_its_schema_and_small_works():
    spec = load_recipe(RECIPE, small=True)
    assert spec["kind"] == "running_coupling" and spec["sampling"]["n_nets"] == 100_000
    with pytest.raises(nn.NNFTError, match="running"):
        load_recipe(RECIPE, overrides=["running.cutoff_min=-1.0"])
    with pytest.raises(nn.NNFTError, match="unknown key"):
        load_recipe(RECIPE, overrides=["running.bogus=1"])


@pytest.mark.parametrize(
    ("over", "match"),
    [
        (("six_point.cutoff", 0.6), "six_point.cutoff.*contain"),
        (("running.cutoff_min", 0.5), "running.cutoff_min.*contain"),
        (("running.cutoff_max", 1.5), "running.cutoff_max"),
    ],
)
def test_recipe_bad_cutoffs_name_the_key(over, match, tmp_path):
    with pytest.raises(nn.NNFTError, match=match):
        run_recipe(RECIPE, tmp_path / "out", progress=False, overrides=[*TINY, over])


def test_recipe_runs_and_writes_its_report(tmp_path):
    out = tmp_path / "rc"
    res = run_recipe(RECIPE, out, progress=False, overrides=TINY)
    assert {p.name for p in out.iterdir()} >= {"results.nc", "running.png", "six_point.png", "summary.md"}
    import xarray as xr

    tree = xr.open_datatree(out / "results.nc")
    check_tree(tree, plots=False)
    g = tree["CosNet"]
    assert g.attrs["expected_slope"] == 0.0 and np.all(np.isfinite(g["lam"].values))
    assert res["CosNet"]["slope_se"] >= 0
    assert "| CosNet |" in (out / "summary.md").read_text()
