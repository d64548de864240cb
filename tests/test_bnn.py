"""Finite-width Bayesian networks by NUTS: DataTree groups, clean diagnostics, bad input."""

import arviz_plots as azp
import arviz_stats as azs
import jax
import matplotlib.pyplot as plt  # the Agg backend: tests/conftest.py
import numpy as np
import pytest
from arviz_conventions import check_tree

import nnft_ppl
from nnft_ppl import NNFTError
from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import diagnostics, input_grid, run_nuts, synthetic


def test_nuts_posterior_tree():
    """One NUTS run (a single test, so parallel workers never repeat it): groups, shapes,
    clean diagnostics, and an unconverged copy that is flagged, not silenced."""
    d = synthetic(15, noise=0.5, seed=2)
    tree = run_nuts(
        ErfNet(width=8, sw=2.0, sb=1.0), d.x, d.y, input_grid(d, 6), num_warmup=200, num_samples=200, rng_key=0
    )
    for g in ("posterior", "posterior_predictive", "log_likelihood", "sample_stats", "observed_data", "constant_data"):
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
    _assert_arviz_conventions(tree, d.x, d.y)
    check_tree(tree, var_names=["sigma"], plots=False)  # the shared checker (plots drawn above)

    bad = tree.copy()
    post = bad.posterior.to_dataset()
    post["f"] = post["f"] + np.arange(4)[:, None, None]  # chains disagree
    bad["posterior"] = post
    out = diagnostics(bad, ["f"])
    assert out["rhat_max"] > 1.01 and "R-hat" in out["warnings"]


def _assert_arviz_conventions(tree, x, y):
    """Issue 11 item 1: standard sample stats, named dims with the points as coordinates,
    constant_data / observed_data, architecture and version in attrs; ArviZ's own summary,
    ess, rhat and plots run on it."""
    ss = tree.sample_stats
    for k in ("energy", "diverging", "n_steps", "acceptance_rate", "step_size", "lp", "tree_depth"):
        assert k in ss and ss[k].shape == tree.posterior["sigma"].shape, k
    for group in tree.children.values():
        assert not [d for d in group.dims if "_dim_" in d], (group.name, dict(group.dims))
    assert tree.posterior["W0"].dims == ("chain", "draw", "neuron", "input_dim")
    assert tree.posterior["f"].dims == ("chain", "draw", "point")
    assert tree.posterior["f_test"].dims == ("chain", "draw", "test_point")
    np.testing.assert_array_equal(tree.posterior["point"].values, x[:, 0])
    np.testing.assert_array_equal(tree.constant_data["x"].values, x)
    np.testing.assert_array_equal(tree.constant_data["x_test"].values[:, 0], tree.posterior["test_point"].values)
    np.testing.assert_array_equal(tree.observed_data["y"].values, y)
    f0 = tree.posterior["f"].sel(point=x[0, 0])
    np.testing.assert_array_equal(f0.values, tree.posterior["f"].values[..., 0])
    assert tree.attrs["architecture"] == "ErfNet" and tree.attrs["arch_width"] == 8 and tree.attrs["arch_sw"] == 2.0
    assert tree.attrs["nnft_ppl_version"] == nnft_ppl.__version__
    summ = azs.summary(tree, var_names=["sigma", "f"])
    assert np.all(np.isfinite(summ["ess_bulk"].values.astype(float)))
    assert float(azs.rhat(tree, var_names=["sigma"])["sigma"]) < 1.01
    assert float(azs.ess(tree, var_names=["sigma"])["sigma"]) > 100
    for plot in (azp.plot_energy, azp.plot_forest, azp.plot_trace_dist):
        kw = {} if plot is azp.plot_energy else {"var_names": ["sigma", "b1"]}
        assert plot(tree, **kw) is not None
    plt.close("all")


def _same(a, b) -> bool:
    if isinstance(a, jax.Array) and jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
        a, b = jax.random.key_data(a), jax.random.key_data(b)
    if isinstance(a, (np.ndarray, jax.Array)) or isinstance(b, (np.ndarray, jax.Array)):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return bool(a == b)


class _Stop(Exception):
    """Raised in place of sampling: what is checked here is decided before any sampling."""


def test_numpyro_argument_names_and_deprecated_spellings(monkeypatch):
    """The old run_nuts(seed=<a JAX key>) raised a raw TypeError; seed / target_accept / progress
    still work for one release with a DeprecationWarning at the user's call and reach the sampler as
    the new names would; bad keys, probabilities, counts and unknown arguments raise NNFTError naming
    the argument (before any sampling). Sampling itself is `test_nuts_posterior_tree`'s."""
    d = synthetic(8, noise=0.5, seed=1)
    kw = dict(num_warmup=30, num_samples=20, num_chains=2)
    seen = []

    def stop(arch, xa, ya, xt, opts, collapse):
        seen.append(dict(opts))
        raise _Stop

    monkeypatch.setattr("nnft_ppl.gp._bnn._sample_posterior", stop)
    with pytest.warns(DeprecationWarning) as rec, pytest.raises(_Stop):
        run_nuts(ErfNet(width=2), d.x, d.y, seed=jax.random.key(3), target_accept=0.8, progress=False, **kw)
    dep = [w for w in rec if issubclass(w.category, DeprecationWarning) and "run_nuts(" in str(w.message)]
    assert {str(w.message).split("(")[1].split("=")[0] for w in dep} == {"seed", "target_accept", "progress"}
    assert all(w.filename == __file__ for w in dep)
    with pytest.raises(_Stop):
        run_nuts(ErfNet(width=2), d.x, d.y, rng_key=jax.random.key(3), target_accept_prob=0.8, progress_bar=False, **kw)
    old, new = seen
    assert old.keys() == new.keys()
    for name in old.keys() - {"deprecated"}:  # the old spellings as given: the rest is what sampling gets
        assert _same(old[name], new[name]), name
    for bad, match in (
        (dict(rng_key=2**70), "rng_key"),
        (dict(rng_key=jax.random.split(jax.random.key(0), 3)), "rng_key: expected one key"),
        (dict(rng_key="0"), "rng_key"),
        (dict(target_accept_prob="high"), "target_accept_prob"),
        (dict(num_samples=2.5), "num_samples"),
        (dict(n_samples=10), "unknown argument 'n_samples'"),
    ):
        with pytest.raises(NNFTError, match=match):
            run_nuts(ErfNet(width=2), d.x, d.y, **{**kw, **bad})


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
