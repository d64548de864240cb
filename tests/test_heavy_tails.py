"""Heavy-tail diagnostics (Pareto k-hat of the summands) and GaussNet's exponentially tilted
neuron-level estimator (issue 9, items 1 and 2)."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from arviz_stats.base.array import array_stats
from helpers import assert_within_se, sorted_unique

import nnft_ppl as nn
from nnft_ppl._combinatorics import GAUSS_XI
from nnft_ppl._tails import keep_size, khat_flag, merge_top
from nnft_ppl._tensors import sorted_tuples
from nnft_ppl.ensemble import (
    MonomialBasis,
    _network,
    cumulants,
    ensemble_correlators,
    neuron_correlators,
    stream_moment_sums,
    tensor_sum,
)
from nnft_ppl.stats import se_threshold
from nnft_ppl.theory import exact_connected

#: the default report's GaussNet points (inference/width_scaling.toml)
REPORT_X = np.array([-0.01, -0.006, -0.002, 0.002, 0.006, 0.01])


def test_khat_flag_thresholds():
    assert [khat_flag(k) for k in (-np.inf, 0.2, 0.5, 0.51, 0.7, 0.71, np.nan)] == [
        "ok",
        "ok",
        "ok",
        "unreliable_se",
        "unreliable_se",
        "unreliable",
        "unreliable",
    ]


def test_streaming_khat_equals_arviz_on_the_full_sample():
    """The top-M tail kept in chunks across blocks gives exactly arviz-stats' k-hat of the full sample."""
    n, key = 2000, jax.random.key(5)

    def sample(keys):  # heavy-tailed (Student t, 2 dof: k = 0.5 for |y|, r/2 for |y|^r), 3 points
        return jax.vmap(lambda k: jax.random.t(k, 2.0, (3,), np.float64))(keys)

    basis = MonomialBasis.full(3, 4)
    ms = stream_moment_sums(sample, n, key, basis, n_blocks=16, chunk=100, progress=False)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(np.arange(n, dtype=np.uint32))
    phi = jax.jit(sample)(keys)
    series = np.asarray(jax.jit(lambda p: jnp.abs(jnp.concatenate([p, p.sum(1, keepdims=True)], 1)).T)(phi))
    for r in range(1, 5):
        full = array_stats.pareto_khat(series**r, chain_axis=None, draw_axis=-1, r_eff=1.0, tail="right")
        assert ms.khat[r] == np.max(full), r
    assert ms.khat[1] < 0.7 < ms.khat[4]
    # the host-side merge keeps the same tail as a sort of everything
    top = merge_top(merge_top(None, series[:, :700], keep_size(n)), series[:, 700:], keep_size(n))
    np.testing.assert_array_equal(np.sort(top, 1), np.sort(series, 1)[:, -keep_size(n) :])
    # the streamed step and this test's jit are two compiled programs: the sum over the 3 points may
    # round differently by an ulp (it does at XLA -O0); the kept tail is otherwise the same
    np.testing.assert_allclose(np.sort(ms.tails, 1), np.sort(top, 1), rtol=4.5e-16, atol=0)


def test_heavy_tailed_ensemble_is_flagged_and_relunet_is_not():
    gauss = nn.GaussNet(width=10, d=1)
    with pytest.warns(UserWarning, match="order 6"):
        ds = ensemble_correlators(gauss, REPORT_X[[0, 5]], 10_000, key=1, progress=False)
    assert float(ds.G6c_khat) > 0.7 and ds.G6c_khat.attrs["flag"] == "unreliable"
    relu = nn.ReLUNet(width=10, d=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ReLUNet predicts nothing: no warning
        ds = ensemble_correlators(relu, np.array([0.2, 0.6, 1.0]), 10_000, key=1, max_order=4, progress=False)
    for v in ("G2", "G2c", "G4", "G4c"):
        assert float(ds[f"{v}_khat"]) < 0.5 and ds[f"{v}_khat"].attrs["flag"] == "ok", v


def test_warning_fires_before_sampling_and_points_at_the_caller(monkeypatch):
    def no_sampling(*a, **k):
        raise RuntimeError("sampled")

    monkeypatch.setattr(_network, "stream_moment_sums", no_sampling)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="sampled"):
            ensemble_correlators(nn.GaussNet(width=10, d=1), np.array([3.0]), 10_000, max_order=2, progress=False)
    (w,) = [w for w in rec if issubclass(w.category, UserWarning)]
    assert w.filename == __file__
    assert "order 2: points [0]" in str(w.message) and "expected k" in str(w.message)


@pytest.mark.parametrize("sw, x", [(1.0, 3.0), (3.0, 1.0)])
def test_gaussnet_g2_far_out_is_right_or_flagged(sw, x):
    """Network level: within 4 SE of the kernel, or flagged by k (never silently wrong).
    The tilted neuron level gets it right with k < 0.5."""
    arch = nn.GaussNet(width=10, d=1, sw=sw)
    pts = np.array([x])
    kernel = float(np.asarray(arch.nngp_kernel(pts[:, None], pts[:, None]))[0, 0])
    with pytest.warns(UserWarning, match="heavy-tailed"):
        ds = ensemble_correlators(arch, pts, 10_000, key=2, max_order=2, progress=False)
    z = abs(float(ds.G2[0, 0]) - kernel) / float(ds.G2_se[0, 0])
    assert z <= se_threshold(1, 4.0, 63) or khat_flag(float(ds.G2_khat)) != "ok", (z, float(ds.G2_khat))
    two = np.array([x - 0.05, x + 0.05])
    kernel = np.asarray(arch.nngp_kernel(two[:, None], two[:, None]))
    neu = neuron_correlators(arch, two, 4_000, key=3, max_order=2, progress=False)
    assert float(neu.G2_khat) < 0.5
    assert_within_se(neu.G2.values, neu.G2_se.values, kernel, 64, what=f"tilted G2 sw={sw} x={x}")


def test_tilted_gaussnet_matches_exact_at_the_report_points():
    """d4 and d6c (smeared sums of G4c, G6c) and every entry within 4 SE (Bonferroni) of the closed
    form, with k-hat of the tilted summands < 0.5; the plain neuron estimator is flagged there."""
    width = 2
    arch = nn.GaussNet(width=width, d=1)
    s = arch.readout_std
    ds, ms = neuron_correlators(arch, REPORT_X, 8_192, key=4, progress=False, return_sums=True)
    for r in (4, 6):
        assert float(ds[f"G{r}c_khat"]) < 0.5, r
        t = sorted_tuples(len(REPORT_X), r)
        exact = np.asarray(exact_connected(arch, REPORT_X, r))
        smeared = tensor_sum(cumulants(ms, t, GAUSS_XI), t).map(lambda v: v * s**r * width ** (1 - r / 2))
        z = abs(float(smeared.value) - exact.sum()) / float(smeared.se)
        assert z <= se_threshold(2, 4.0, 63), (r, z)
        est = ds[f"G{r}c"].sel(width=width).values
        se = ds[f"G{r}c_se"].sel(width=width).values
        assert_within_se(est, se, exact, 64, unique=sorted_unique(exact.shape), what=f"tilted G{r}c")
    with pytest.warns(UserWarning, match="neuron-level"):
        plain = neuron_correlators(arch, REPORT_X[[0, 5]], 4_000, key=4, max_order=6, progress=False, tilt=False)
    assert khat_flag(float(plain.G6c_khat)) == "unreliable"


def test_vectorised_khat_is_the_row_by_row_fit():
    """`khat_rows` (the calibration's k-hat of many kept tails at once) equals `khat_of_top` row by row
    to rounding, on light, heavy and flat tails, and where a tail is too short or undefined."""
    from nnft_ppl._tails import khat_of_top, khat_rows

    rng = np.random.default_rng(5)
    top = np.stack([np.abs(rng.standard_normal((4, 200))), rng.pareto(0.8, (4, 200)), np.ones((4, 200))])
    top[0, 0, :150] = 0.0  # first quartile at the minimum: no fit (nan)
    for n, power in [(4096, 1), (4096, 6), (20, 2)]:
        rows = np.array([[khat_of_top(g[None, s], n, power)[0] for s in range(g.shape[0])] for g in top])
        vec = khat_rows(top, n, power, batch=5)
        np.testing.assert_array_equal(np.isnan(vec), np.isnan(rows))
        np.testing.assert_allclose(vec, rows, rtol=1e-12, atol=1e-12)
    assert np.isnan(khat_rows(top, 4096, 1)[0, 0]) and khat_rows(top, 4096, 1)[2, 0] == -np.inf
    assert khat_rows(top, 4096, 1)[1].min() > 0.7 > khat_rows(top, 4096, 1)[0, 1:].max()
