"""Trained ensembles and the lazy-regime theory (issue 14 items 3-4)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from arviz_conventions import check_tree
from helpers import sorted_unique

from nnft_ppl import NNFTError, NNFTNumericalError
from nnft_ppl.architectures import ErfNet
from nnft_ppl.dynamics import frozen_ntk_dynamics, lazy_prediction, ntk_kernel, train_ensemble
from nnft_ppl.stats import se_threshold

XT = np.array([-1.0, 0.2, 0.9])
YT = np.sin(2 * XT)
X = np.array([-0.5, 0.5, 1.3])
N_BLOCKS = 16


@pytest.fixture(scope="module")
def wide_run():
    """256 ErfNets of width 512 (NTK parametrisation) trained by gradient descent to t = 2."""
    return train_ensemble(
        ErfNet(width=512), XT, YT, X, n_networks=256, learning_rate=0.05, time=2.0, n_records=2, n_blocks=N_BLOCKS
    )


def test_wide_ensemble_matches_the_lazy_theory(wide_run):
    """Mean and covariance of the trained ensemble at t = 1 and t = 2 = the frozen-NTK theory
    (discrete gradient descent) within 4 SE, Bonferroni over the 2 x (3 + 6) entries (jackknife SE,
    Student t with 15 dof). The k-hat of the order-2 summands is below 0.5."""
    c, th = wide_run["correlators"], wide_run["theory"]
    n = 2 * (3 + 6)
    for t in (1, 2):
        assert float(c.khat_2[t]) < 0.5
        z_mean = np.abs(c.G1.values[t] - th["mean"].values[t]) / c.G1_se.values[t]
        cov, se, ref = c.G2c.values[t], c.G2c_se.values[t], th["cov"].values[t]
        z_cov = (np.abs(cov - ref) / se)[sorted_unique(se.shape)]
        assert max(z_mean.max(), z_cov.max()) < se_threshold(n, 4.0, N_BLOCKS - 1), (z_mean, z_cov)
    # the ensemble did learn: the mean moved from 0 by many SE towards the targets
    assert np.all(np.abs(c.G1.values[2]) > 10 * c.G1_se.values[2])


def test_run_tree_has_a_time_dimension_and_round_trips(wide_run, tmp_path):
    tree = wide_run
    assert tree["ensemble"].phi.dims == ("time", "network", "point")
    assert tree["correlators"].G4c.dims == ("time", "point_1", "point_2", "point_3", "point_4")
    np.testing.assert_allclose(tree["ensemble"].time, [0.0, 1.0, 2.0])
    assert tree.attrs["parametrization"] == "ntk" and tree.attrs["architecture"] == "ErfNet"
    assert float(tree["correlators"].ntk_drift[0]) == 0.0 and float(tree["correlators"].ntk_drift[2]) > 0
    # the initial ensemble-mean NTK is the analytic one: within 4 SE in test_ntk.py (here: its shape)
    assert tree["correlators"].ntk_mean[0].shape == np.asarray(ntk_kernel(ErfNet(width=512), X)).shape
    tree.to_netcdf(tmp_path / "run.nc")
    back = xr.open_datatree(tmp_path / "run.nc")
    check_tree(back)  # ArviZ's conventions: named dims, point coordinates, params and version in attrs
    np.testing.assert_array_equal(back["correlators"].G2.values, tree["correlators"].G2.values)


def test_lazy_theory_limits():
    """t = 0: mean 0, covariance K; t -> infinity: NTK kernel regression (exactly through the
    training points, posterior-like covariance zero there); discrete -> continuous as eta -> 0."""
    arch = ErfNet(width=3, sw=1.3)
    x = np.r_[XT, X]
    mean, cov = lazy_prediction(arch, XT, YT, x, [0.0, np.inf])
    k = np.asarray(arch.nngp_kernel(x, x))
    np.testing.assert_allclose(mean[0], 0.0, atol=1e-15)
    np.testing.assert_allclose(cov[0], k, rtol=1e-14)
    th = np.asarray(ntk_kernel(arch, x, XT))
    np.testing.assert_allclose(mean[1], th @ np.linalg.solve(th[:3], YT), rtol=1e-10)
    np.testing.assert_allclose(mean[1][:3], YT, rtol=1e-10)
    np.testing.assert_allclose(cov[1][:3, :3], 0.0, atol=1e-10)
    cont, _ = lazy_prediction(arch, XT, YT, X, [0.7])
    disc, _ = lazy_prediction(arch, XT, YT, X, [0.7], learning_rate=1e-5)
    np.testing.assert_allclose(disc, cont, rtol=1e-4)


def test_bad_input_names_the_argument():
    arch = ErfNet(width=4)
    kw = dict(n_networks=8, time=0.1, n_records=1)
    for args, over, name in (
        ((XT, YT[:2]), {}, "y_train"),
        ((XT, YT), {"optimizer": "lbfgs"}, "optimizer"),
        ((XT, YT), {"parametrization": "mean-field"}, "parametrization"),
        ((XT, YT), {"learning_rate": 0.0}, "learning_rate"),
        ((XT, YT), {"learning_rate": -1.0}, "learning_rate"),
        ((XT, YT), {"time": 0.0}, "time"),
        ((np.zeros((3, 2)), YT), {}, "x_train"),
    ):
        with pytest.raises(NNFTError, match=name):
            train_ensemble(arch, *args, **{**kw, **over})
    with pytest.raises(NNFTError, match="times"):
        frozen_ntk_dynamics(np.eye(1), np.eye(1), np.eye(1), np.eye(1), np.eye(1), np.ones(1), [-1.0])


def test_divergent_learning_rate_stops_with_a_clear_error():
    """Standard parametrisation at width 64: the NTK grows like N, so eta = 1 diverges."""
    with pytest.raises(NNFTNumericalError, match="learning_rate=1.0"):
        train_ensemble(
            ErfNet(width=64),
            XT,
            YT,
            parametrization="standard",
            n_networks=8,
            learning_rate=1.0,
            time=50.0,
            n_records=1,
        )


def test_adam_and_momentum_reduce_the_loss():
    for opt in ("adam", "momentum"):
        tree = train_ensemble(
            ErfNet(width=16),
            XT,
            YT,
            n_networks=8,
            optimizer=opt,
            learning_rate=0.02,
            time=1.0,
            n_records=1,
            record_ntk=False,
        )
        loss = tree["ensemble"].loss.values
        assert np.all(np.isfinite(loss)) and np.all(loss[-1] < loss[0])
        assert "theory" not in tree.children


def test_ntk_drift_falls_like_inverse_width():
    """Lazy training (NTK parametrisation): the relative NTK drift |Theta_t - Theta_0| / |Theta_0| at
    fixed time falls like 1/N, not N^(-1/2): each neuron's weights move by O(N^-1/2), but the first-
    order changes are odd in its readout sign and average out over the N neurons (Dyer & Gur-Ari
    2019, arXiv:1909.11304: dTheta/dt = O(1/N)). Fitted log-log slope over N = 64 and 1024 within
    4 SE of -1, and 1/2 is excluded by more than 4 SE. (Only the two end widths: with equal per-width
    errors a middle width on the log scale adds nothing to the slope's precision, sum (log N - mean)^2
    is the same, and each width is a compile.)"""
    widths = [64, 1024]
    drift, se = [], []
    for n in widths:
        c = train_ensemble(
            ErfNet(width=n), XT, YT, n_networks=64, learning_rate=0.05, time=2.0, n_records=1, n_blocks=N_BLOCKS
        )["correlators"]
        drift.append(float(c.ntk_drift[-1]))
        se.append(float(c.ntk_drift_se[-1]))
    y, s = np.log(drift), np.asarray(se) / np.asarray(drift)
    a = np.c_[np.ones(len(widths)), np.log(widths)] / s[:, None]
    cov = np.linalg.inv(a.T @ a)
    slope = (cov @ a.T @ (y / s))[1]
    assert abs(slope + 1.0) < 4 * np.sqrt(cov[1, 1]), (slope, np.sqrt(cov[1, 1]), drift)
    assert abs(slope + 0.5) > 4 * np.sqrt(cov[1, 1]), (slope, np.sqrt(cov[1, 1]), drift)


def test_training_recipe_trees_follow_the_conventions(tmp_path):
    """`nnft run inference/training_dynamics.toml --small`: every netCDF file it writes opens as an
    ArviZ-conventional DataTree (issue 11: the trees of every recipe)."""
    from pathlib import Path

    from nnft_ppl.recipes import run_recipe

    root = Path(__file__).resolve().parent.parent
    run_recipe(root / "inference" / "training_dynamics.toml", tmp_path / "td", progress=False, small=True)
    files = sorted((tmp_path / "td").glob("*.nc"))
    assert {f.name for f in files} >= {"training.nc", "drift.nc"}, files
    for f in files:
        check_tree(xr.open_datatree(f), plots=False)
