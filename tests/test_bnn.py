"""Finite-width Bayesian networks by NUTS: DataTree groups, clean diagnostics, bad input."""

import dataclasses

import numpy as np
import pytest

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl import NNFTError
from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import diabetes_bmi, diagnostics, fit_gp, input_grid, psis_loo, run_nuts, synthetic


def test_nuts_posterior_tree():
    """One NUTS run (a single test, so parallel workers never repeat it): groups, shapes,
    clean diagnostics, and an unconverged copy that is flagged, not silenced."""
    d = synthetic(15, noise=0.5, seed=2)
    tree = run_nuts(ErfNet(width=8, sw=2.0, sb=1.0), d.x, d.y, input_grid(d, 6), num_warmup=200, num_samples=200)
    for g in ("posterior", "posterior_predictive", "log_likelihood", "sample_stats", "observed_data"):
        assert g in tree.children
    assert tree.posterior["f"].shape == (4, 200, 15)
    assert tree.posterior["f_test"].shape == (4, 200, 6)
    assert "sigma" in tree.posterior and "W1" in tree.posterior
    assert tree.log_likelihood["y"].shape == (4, 200, 15)
    assert tree.posterior_predictive["y"].shape == (4, 200, 15)

    assert tree.attrs["divergences"] == 0
    assert tree.attrs["rhat_max"] <= 1.01
    assert tree.attrs["warnings"] == ""
    assert "sigma" in tree.attrs["rhat_variables"]

    bad = tree.copy()
    post = bad.posterior.to_dataset()
    post["f"] = post["f"] + np.arange(4)[:, None, None]  # chains disagree
    bad["posterior"] = post
    out = diagnostics(bad, ["f"])
    assert out["rhat_max"] > 1.01 and "R-hat" in out["warnings"]


def test_bad_input():
    d = synthetic(15)
    with pytest.raises(NNFTError, match="num_chains"):
        run_nuts(ErfNet(width=4), d.x, d.y, num_chains=1)
    with pytest.raises(NNFTError, match="x must be finite"):
        run_nuts(ErfNet(width=4), np.r_[d.x[:-1, 0], np.nan], d.y)
    with pytest.raises(NNFTError, match="same number"):
        run_nuts(ErfNet(width=4), d.x, d.y[:-1])
    with pytest.raises(NNFTError, match="x_test"):
        run_nuts(ErfNet(width=4), d.x, d.y, np.ones((3, 2)))


def test_real_data_converges():
    """The diabetes/BMI set: the marginal likelihood drives sb to the boundary (~1e-5), the case
    that stalled centred NUTS; the non-centred, readout-collapsed sampler must converge cleanly."""
    d = diabetes_bmi(40)
    gp = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=100)
    assert gp.kernel.values()["sb"] < 1e-3
    net = dataclasses.replace(gp.arch, width=16)
    tree = run_nuts(net, d.x, d.y, input_grid(d, 6), noise=gp.noise, num_warmup=200, num_samples=200, seed=1)
    assert tree.attrs["divergences"] == 0 and tree.attrs["rhat_max"] <= 1.01, tree.attrs["warnings"]
    loo = psis_loo(tree)
    assert loo["method"] == "integrated" and loo["trustworthy"], loo
