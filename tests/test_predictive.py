"""Issue 14 item 5: the NNGP posterior, the NTK-GP, deep ensembles (and NUTS networks, in the recipe)
side by side. The NUTS part costs ~20 CPU-s of compilation cold, so the recipe runs here without it
(`bnn.widths = []`); `run_nuts` trees have their own convention tests (test_gp_*)."""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
import xarray as xr
from arviz_conventions import check_tree
from helpers import assert_within_se

from nnft_ppl import NNFTError
from nnft_ppl.architectures import make_architecture
from nnft_ppl.dynamics import ntk_kernel
from nnft_ppl.gp import (
    heldout_elpd,
    nngp_predictive,
    ntk_gp_predictive,
    predictive_study,
    split_heldout,
    w2_between,
)
from nnft_ppl.gp._predictive import gaussian, sampled
from nnft_ppl.recipes import run_recipe
from nnft_ppl.stats import se_threshold

ROOT = Path(__file__).resolve().parent.parent
XT = np.linspace(-1.0, 1.0, 5)[:, None]
YT = np.sin(2 * XT[:, 0])
X = np.array([[-1.3], [-0.4], [0.3], [1.5]])


@pytest.fixture(scope="module")
def arch():
    return make_architecture("ErfNet", d=1, width=64)


def test_ntk_gp_is_kernel_regression_with_the_ntk(arch):
    """t -> inf: mean Theta_xX Theta_XX^-1 y and variance K_xx - 2 T K_Xx + T K_XX T^T (T = Theta_xX
    Theta_XX^-1), to 1e-10; two exact predictives are at their closed-form W2 with zero error."""
    p = ntk_gp_predictive(arch, XT, YT, X, noise=0.3)
    x, xt = jnp.asarray(X), jnp.asarray(XT)
    t_xX, t_XX = np.asarray(ntk_kernel(arch, x, xt)), np.asarray(ntk_kernel(arch, xt, xt))
    k = lambda a, b: np.asarray(arch.nngp_kernel(a, b))  # noqa: E731
    tt = np.linalg.solve(t_XX, t_xX.T).T
    var = np.diag(k(x, x)) - 2 * np.sum(tt * k(x, xt), 1) + np.einsum("pi,ij,pj->p", tt, k(xt, xt), tt)
    np.testing.assert_allclose(p.mean, tt @ YT, rtol=0, atol=1e-10)
    np.testing.assert_allclose(p.var_f, var, rtol=0, atol=1e-10)
    q = nngp_predictive(arch, XT, YT, X, noise=0.3)
    est = w2_between(p, q)
    sd = lambda v: np.sqrt(v + 0.09)  # noqa: E731
    exact = np.mean((p.mean - q.mean) ** 2 + (sd(p.var_f) - sd(q.var_f)) ** 2)
    assert est.d2_se == 0.0 and abs(est.d2 - exact) < 1e-12 and est.resolved
    assert w2_between(q, q).d2 == 0.0
    lpd = scipy.stats.norm.logpdf(YT[:4], q.mean, np.sqrt(q.var_y))
    assert abs(heldout_elpd(q, YT[:4])["elpd"] - lpd.sum()) < 1e-12


def test_w2_between_sampled_predictives_is_debiased_and_has_power():
    """Two independent samples: the debiased d2 is within 4 SE of the true value, both where it is 0
    (where the plug-in value is biased up by the Monte Carlo noise) and where it is not."""
    rng = np.random.default_rng(3)
    draws = lambda mu, sd: mu + sd * rng.standard_normal((512, 6))  # noqa: E731
    s2 = 0.25
    a = sampled("a", draws(0.0, 1.0), 0.5)
    null = w2_between(a, sampled("b", draws(0.0, 1.0), 0.5))
    alt = w2_between(a, sampled("c", draws(0.3, 1.5), 0.5))
    true = 0.3**2 + (np.sqrt(1 + s2) - np.sqrt(2.25 + s2)) ** 2
    thr = se_threshold(2, 4.0, 15)
    assert abs(null.d2) < thr * null.d2_se and not null.resolved
    assert abs(alt.d2 - true) < thr * alt.d2_se and alt.resolved


def test_bad_input_names_the_argument(arch):
    for kw, name in (({"noise": 0.0}, "noise"), ({"y_train": YT[:3]}, "y_train"), ({"time": -1.0}, "time")):
        args = {"arch": arch, "x_train": XT, "y_train": YT, "x": X, "noise": 0.3, **kw}
        with pytest.raises(NNFTError, match=name):
            ntk_gp_predictive(**args)
    with pytest.raises(NNFTError, match="arch"):
        nngp_predictive("ErfNet", XT, YT, X, 0.3)
    with pytest.raises(NNFTError, match="y_heldout"):
        predictive_study(arch, XT, YT, X, X, YT, 0.3, ensemble_widths=[])
    with pytest.raises(NNFTError, match="n_heldout"):
        split_heldout(XT, YT, 5)
    with pytest.raises(NNFTError, match="y"):
        heldout_elpd(gaussian("g", np.zeros(4), np.ones(4), 0.1), YT)
    with pytest.raises(NNFTError, match="n_batches"):
        sampled("s", np.zeros((3, 4)), 0.1, n_batches=4)


@pytest.fixture(scope="module")
def recipe_tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("pc") / "pc"
    overrides = [("bnn.widths", []), ("gp.fit_iters", 0), ("training.widths", [512]), ("training.n_networks", 64)]
    run_recipe(ROOT / "inference" / "predictive_comparison.toml", out, False, overrides=overrides, small=True)
    return out


def test_recipe_writes_conventional_trees_and_the_wide_ensemble_matches_the_ntk_gp(recipe_tree):
    """`nnft run inference/predictive_comparison.toml --small` (NUTS off): predictive.nc passes
    check_tree, and the width-512 ensemble's mean on the grid is within 4 SE (Bonferroni over the
    points) of the NTK-GP's at the same training time, as is its debiased W2 to it of zero."""
    assert {"predictive.nc", "predictives.png", "distances.png", "summary.md"} <= {
        p.name for p in recipe_tree.iterdir()
    }
    tree = xr.open_datatree(recipe_tree / "predictive.nc")
    check_tree(tree, plots=False)
    ens, lim = tree["ensemble_N512"], tree["ntk_gp"]
    assert_within_se(ens["mean"].values, ens["mean_se"].values, lim["mean"].values, n_blocks=16, what="mean")
    d = tree["distances"].to_dataset().sel(width=512, pair="NTK-GP vs ensemble")
    assert abs(float(d.d2)) < se_threshold(1, 4.0, 15) * float(d.d2_se), (float(d.d2), float(d.d2_se))
    elpd = tree["heldout_elpd"].to_dataset()
    assert np.all(np.isfinite(elpd.elpd.values)) and np.all(elpd.elpd_se.values > 0)
