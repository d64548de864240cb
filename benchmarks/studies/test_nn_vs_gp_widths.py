"""Study (moved from tests/test_nn_vs_gp.py for time: ~95 s of `make test`): networks converge to their
NNGP as the width grows. The suite keeps the pieces: the debiased W2 (tests/test_nn_vs_gp.py) and
`compare_widths` end to end at notebook size (notebooks/02_nn_vs_gp.ipynb, executed by the suite)."""

import arviz_stats as azs
import numpy as np
import pytest

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import compare_widths, plot_comparison, synthetic
from nnft_ppl.stats import se_threshold

WIDTHS = (4, 16, 64)


def test_networks_approach_their_gp(tmp_path):
    """One comparison (a single test, so parallel workers never repeat it)."""
    d = synthetic(20, noise=0.5, seed=1)
    cmp = compare_widths(
        ErfNet(), d, WIDTHS, n_grid=10, fit_iters=100, init_noise=0.1, num_warmup=300, num_samples=400, rng_key=0
    )
    # the GP is the networks' own N -> infinity limit: zero mean, y in the networks' units (a fit to
    # standardised y is another model, and W2 levelled off at ~0.1 against it)
    assert cmp.gp.summary()["y_mean"] == 0.0 and cmp.gp.summary()["y_scale"] == 1.0
    # every NUTS run converged cleanly
    for r in cmp.rows:
        assert r["divergences"] == 0, r
        assert r["rhat_max"] <= 1.01, r
    # the W2 distance falls at each step, each step significant: difference > 4 SE (Bonferroni over
    # the steps, Student t for a jackknife over 32 batches) of the combined jackknife SE
    w2 = np.array([r["w2"] for r in cmp.rows])
    se = np.array([r["w2_se"] for r in cmp.rows])
    z = se_threshold(len(WIDTHS) - 1, n_sigma=4.0, dof=31)
    assert np.all(-np.diff(w2) > z * np.sqrt(se[:-1] ** 2 + se[1:] ** 2)), (w2, se)
    # ELPD and the Pareto-k report: the flag says what the k values say; where PSIS-LOO is
    # trustworthy at the widest network its ELPD matches the GP's exact LOO within 4 SE
    for r, dt in zip(cmp.rows, cmp.nets.values(), strict=True):
        assert np.isfinite(r["elpd"]) and r["elpd_se"] > 0
        assert r["loo_method"] == "integrated"  # a readout-collapsed run
        t = dt.copy()
        t["log_likelihood"] = dt["log_likelihood_integrated"].to_dataset()
        k = np.asarray(azs.loo(t, pointwise=True).pareto_k)
        assert r["n_pareto_k_bad"] == int(np.sum(k > 0.7)) and r["pareto_k_max"] == pytest.approx(k.max())
        assert dt.attrs["loo_trustworthy"] == int(r["n_pareto_k_bad"] == 0)
    widest = cmp.rows[-1]
    assert widest["n_pareto_k_bad"] == 0, widest
    assert abs(widest["elpd"] - cmp.gp_elpd["elpd"]) < 4 * cmp.gp_elpd["se"]
    assert "| GP (inf) |" in cmp.table()
    plot_comparison(cmp, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert cmp.nets[4].attrs["dataset"].startswith("synthetic") and cmp.nets[4].attrs["y_scale"] == 1.0
