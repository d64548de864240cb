"""One calling convention: the vectorised tensor lookup, `Architecture.at_width`, NumPyro's argument
names in `compare_widths` (old names deprecated, warning at the caller), and plot functions that return
their Figure, accept `ax=` and leave matplotlib's global state alone. All cheap (no sampling)."""

from __future__ import annotations

import itertools
import re
import types
import warnings

import jax
import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from nnft_ppl import NNFTError
from nnft_ppl._tensors import _lookup, expand, sorted_tuples
from nnft_ppl.architectures import REGISTRY
from nnft_ppl.gp import compare_widths, plot_comparison, synthetic
from nnft_ppl.gp._compare import Comparison, _width_keys
from nnft_ppl.symmetry._core import SymmetryResult
from nnft_ppl.symmetry.report import plot_result


def _loop_lookup(n_points: int, order: int, index: dict) -> np.ndarray:
    """The reference: each multi-index sorted, looked up in the dict one by one."""
    return np.array([index[tuple(sorted(g))] for g in itertools.product(range(n_points), repeat=order)])


@pytest.mark.parametrize(("n_points", "order"), [(1, 1), (4, 1), (3, 2), (5, 3), (4, 4), (6, 5), (3, 6)])
def test_lookup_equals_the_loop(n_points, order):
    tuples = sorted_tuples(n_points, order)
    default = {t: i for i, t in enumerate(tuples)}
    np.testing.assert_array_equal(_lookup(n_points, order, None), _loop_lookup(n_points, order, default))
    perm = np.random.default_rng(0).permutation(len(tuples))  # any positions, keys in any order
    shuffled = {tuples[j]: int(i) for i, j in reversed(list(enumerate(perm)))}
    np.testing.assert_array_equal(_lookup(n_points, order, shuffled), _loop_lookup(n_points, order, shuffled))
    values = np.arange(len(tuples), dtype=np.float64)
    full = expand(values, n_points, order)
    for g in itertools.islice(itertools.product(range(n_points), repeat=order), 50):
        assert full[g] == default[tuple(sorted(g))]


def test_lookup_names_a_missing_tuple():
    with pytest.raises(KeyError, match=r"\(0, 1\)"):
        _lookup(3, 2, {(0, 0): 0, (1, 1): 1, (2, 2): 2, (0, 2): 3, (1, 2): 4})


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_at_width_keeps_every_other_parameter(name):
    cls = REGISTRY[name]
    arch = cls(**{"width": 3, **cls.zoo_test_params})
    other = arch.at_width(11)
    assert type(other) is cls and other.width == 11 and arch.width == cls.zoo_test_params.get("width", 3)
    same = {k: v for k, v in arch.params().items() if k != "width"}
    assert {k: v for k, v in other.params().items() if k != "width"} == same
    with pytest.raises(NNFTError, match="width"):
        arch.at_width(2.5)


def test_compare_widths_deprecated_names_warn_at_the_caller():
    with pytest.warns(DeprecationWarning) as rec:
        with pytest.raises(NNFTError, match="data"):  # renamed before anything runs
            compare_widths(REGISTRY["ErfNet"](), "not data", seed=0, progress=False)
    assert {w.filename for w in rec} == {__file__}
    assert any(re.search(r"compare_widths\(seed=\.\.\.\) is deprecated.*rng_key=", str(w.message)) for w in rec)
    assert len([w for w in rec if "progress_bar" in str(w.message)]) == 1
    with pytest.raises(NNFTError, match="unknown argument 'target_accept'"):
        compare_widths(REGISTRY["ErfNet"](), synthetic(8), target_accept=0.9)


def test_width_keys_int_seed_or_key():
    assert _width_keys(5, 3) == [5, 6, 7]  # an int seed: the seeds s + i (the results of the old `seed=`)
    key = jax.random.key(3)
    keys = _width_keys(key, 2)
    assert all(
        np.array_equal(jax.random.key_data(k), jax.random.key_data(jax.random.fold_in(key, i)))
        for i, k in enumerate(keys)
    )
    with pytest.raises(NNFTError, match="rng_key"):
        _width_keys(jax.random.split(key, 2), 2)
    with pytest.raises(NNFTError, match="rng_key"):
        _width_keys(-1, 2)


def _fake_comparison(widths=(4, 16)) -> Comparison:
    """A Comparison with synthetic posterior draws (the plot reads only means, variances and rows)."""
    data = synthetic(8, noise=0.5, seed=1)
    xt = np.linspace(-1.5, 1.5, 7)[:, None]
    rng = np.random.default_rng(1)
    nets = {
        w: types.SimpleNamespace(posterior={"f_test": rng.normal(np.sin(3 * xt[:, 0]), 0.3, (2, 20, 7))})
        for w in widths
    }
    rows = [{"width": w, "w2": 0.123, "w2_se": 0.045} for w in widths]
    gp_pred = {"mean": np.sin(3 * xt[:, 0]), "var_y": np.full(7, 0.5)}
    return Comparison(data, types.SimpleNamespace(noise=0.5), xt, gp_pred, {}, nets, rows)


def test_plot_comparison_returns_its_figure_with_distinct_bands(tmp_path):
    backend = matplotlib.get_backend()
    cmp = _fake_comparison()
    fig = plot_comparison(cmp, tmp_path / "cmp.png")
    assert isinstance(fig, Figure) and (tmp_path / "cmp.png").stat().st_size > 1000
    assert matplotlib.get_backend() == backend  # no matplotlib.use
    for ax in fig.axes:
        assert "W2 to GP = 0.123 ± 0.045" in ax.get_title()
        labels = ax.get_legend_handles_labels()[1]
        assert any(lab.startswith("GP") and "band" in lab for lab in labels)
        assert any(lab.startswith("network") and "band" in lab for lab in labels)
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2
        gp_band, net_band = bands
        styles = [(b.get_hatch(), tuple(np.round(b.get_facecolor().ravel(), 3))) for b in bands]
        assert styles[0] != styles[1] and gp_band.get_hatch() and not net_band.get_hatch()
    mine = Figure()
    axes = mine.subplots(1, 2)
    assert plot_comparison(cmp, ax=axes) is mine and axes[0].get_title().startswith("N = 4")
    with pytest.raises(NNFTError, match="ax"):
        plot_comparison(cmp, ax=Figure().subplots(1, 3))


def _result(extra: dict) -> SymmetryResult:
    one = np.zeros(1)
    return SymmetryResult("cluster: test", one, one, one, one, 0.0, 1.0, 0.05, True, 1, 100.0, "zero", extra=extra)


def test_plot_result_returns_its_figure_and_accepts_ax(tmp_path):
    r = np.array([0.5, 1.0, 2.0, 4.0])
    res = _result({"r": r, "g2c": np.exp(-r), "g2c_se": 0.01 + 0 * r, "c4": np.exp(-2 * r), "c4_se": 0.01 + 0 * r})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_result(res)
    assert isinstance(fig, Figure) and fig.axes[0].get_xscale() == "log"
    assert plot_result(res, tmp_path / "c.png") is not None and (tmp_path / "c.png").stat().st_size > 1000
    ax = Figure().add_subplot()
    assert plot_result(res, ax=ax) is ax.figure and ax.get_title().startswith("cluster")
    spectrum = _result({"eigenvalues": np.array([1.0, 0.5, 0.1]), "eigenvalues_se": np.full(3, 0.01)})
    assert plot_result(spectrum).axes[0].get_xlabel() == "eigenvalue index"
    assert plot_result(_result({})) is None and not (tmp_path / "none.png").exists()


def test_nuts_config_and_keywords():
    from nnft_ppl.deform import NUTSConfig, nuts_config

    cfg = nuts_config(NUTSConfig(num_chains=1), num_warmup=7, progress=True)
    assert cfg.num_warmup == 7 and cfg.progress_bar is True and cfg.chain_method == "sequential"
    assert nuts_config() == nuts_config(NUTSConfig()) and nuts_config().num_samples == 500
    with pytest.raises(NNFTError, match=r"unknown sampler argument\(s\) \['num_draws'\]"):
        nuts_config(num_draws=10)
    with pytest.raises(NNFTError, match="config"):
        nuts_config({"num_warmup": 10})
    for bad, match in [({"num_chains": 0}, "num_chains"), ({"target_accept_prob": 1.0}, "target_accept_prob")]:
        with pytest.raises(NNFTError, match=match):
            nuts_config(**bad)
    with pytest.raises(NNFTError, match="dtype"):
        NUTSConfig(dtype="int32").checked()


class _Reached(Exception):
    pass


def test_sample_deformed_config_equals_keywords(monkeypatch):
    """A NUTSConfig and the same settings as keywords reach the compiled sampler as one config (the
    sampler and its initialisation are stubbed out: they compile for seconds)."""
    import nnft_ppl as nf
    import nnft_ppl.deform._sample as S
    from nnft_ppl.deform import NUTSConfig, Phi4, deform, make_quadrature, sample_deformed

    seen = []

    def runner(fn, potential_gen, postprocess_gen, cfg):
        seen.append(cfg)
        raise _Reached

    monkeypatch.setattr(S, "_compiled_runner", runner)
    init = types.SimpleNamespace(potential_fn=None, postprocess_fn=None)
    monkeypatch.setattr(S, "initialize_model", lambda *a, **k: init)
    model = deform(nf.CosNet(width=2), Phi4(0.1), make_quadrature((-1.0, 1.0), n=4))
    settings = {"num_warmup": 20, "num_samples": 10, "num_chains": 2, "chain_method": "vectorized"}
    x = np.linspace(-1, 1, 3)
    for config, kw in [(NUTSConfig(**settings), {}), (None, settings), (NUTSConfig(num_warmup=1), settings)]:
        with pytest.raises(_Reached):
            sample_deformed(model, x, 3, config, **kw)
    assert seen[0] == seen[1] == seen[2] == NUTSConfig(**settings)
