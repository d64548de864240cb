"""fit_gp on standardised targets, its warnings (degenerate optima, failed or stalled
optimisers, constant y) and the sparse variational path with its memory gate."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl import NNFTError
from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import GPFit, GPWarning, SparseGPFit, fit_gp, max_exact_n, synthetic


def test_large_scale_targets_fit_like_unit_scale():
    """y x 1e8 (the old fit: sb = sw = 0, 82 nats worse): the same scales as the unit-scale fit,
    the noise and predictions rescaled, log ML shifted by exactly -n log 1e8."""
    d = synthetic(30, noise=0.2, seed=0)
    c = 1e8
    g1 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=50)
    g8 = fit_gp(ErfNet(), d.x, c * d.y, noise=0.5 * c, num_iters=50)
    s1, s8 = g1.kernel.values(), g8.kernel.values()
    assert s1["sw"] > 0.1 and s1["sb"] > 0.1  # not the degenerate optimum
    for k in s1:
        np.testing.assert_allclose(s8[k], s1[k], rtol=1e-6)
    np.testing.assert_allclose(g8.noise, c * g1.noise, rtol=1e-6)
    np.testing.assert_allclose(g8.log_marginal_likelihood, g1.log_marginal_likelihood - d.n * np.log(c), rtol=1e-9)
    xt = np.linspace(-2, 2, 5)[:, None]
    p1, p8 = g1.predict(xt), g8.predict(xt)
    np.testing.assert_allclose(p8["mean"], c * p1["mean"], rtol=1e-6)
    np.testing.assert_allclose(p8["var_y"], c**2 * p1["var_y"], rtol=1e-6)
    np.testing.assert_allclose(g8.loo(), g1.loo() - np.log(c), rtol=1e-8)
    assert not g8.notes


def test_standardised_fit_is_the_gp_of_z_mapped_back():
    """Predictions, log ML and LOO of a standardised fit are those of the fit to z = (y - m) / s
    (noise / s) mapped back: mean m + s mu, variances s^2 var, log ML - n log s."""
    d = synthetic(25, noise=0.2, seed=3)
    y = 3.0 + 40.0 * d.y
    m, s = y.mean(), y.std()
    g = fit_gp(ErfNet(sw=1.3, sb=0.6), d.x, y, noise=8.0, num_iters=0)
    gz = fit_gp(ErfNet(sw=1.3, sb=0.6), d.x, (y - m) / s, noise=8.0 / s, num_iters=0, standardize=False)
    assert (g.y_mean, g.y_scale) == pytest.approx((m, s), rel=1e-14)
    xt = np.linspace(-2, 2, 7)[:, None]
    p, pz = g.predict(xt), gz.predict(xt)
    np.testing.assert_allclose(p["mean"], m + s * pz["mean"], rtol=1e-12)
    np.testing.assert_allclose(p["var_f"], s**2 * pz["var_f"], rtol=1e-10)
    np.testing.assert_allclose(p["var_y"], s**2 * pz["var_y"], rtol=1e-10)
    np.testing.assert_allclose(g.log_marginal_likelihood, gz.log_marginal_likelihood - d.n * np.log(s), rtol=1e-12)
    np.testing.assert_allclose(g.loo(), gz.loo() - np.log(s), rtol=1e-12)
    assert g.noise == pytest.approx(8.0, rel=1e-12)


@pytest.mark.parametrize("standardize", [True, False])
def test_constant_targets_raise(standardize):
    x = np.linspace(-1, 1, 10)
    with pytest.raises(NNFTError, match="y: the targets are constant"):
        fit_gp(ErfNet(), x, np.full(10, 3.7), standardize=standardize)
    with pytest.raises(NNFTError, match="y: the targets are constant"):
        fit_gp(ErfNet(), x, np.zeros(10), standardize=standardize)


def test_all_noise_fit_warns_at_the_users_call():
    """Targets independent of x: the optimum is all noise; warned, recorded, pointing here."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 40), rng.standard_normal(40)
    with pytest.warns(GPWarning, match="all-noise fit") as rec:
        g = fit_gp(ErfNet(), x, y, num_iters=50)
    assert all(w.filename == __file__ for w in rec if issubclass(w.category, GPWarning))
    assert any("all-noise" in n for n in g.notes) and any("lower bound" in n for n in g.notes)


class _NaNGradient(ErfNet):
    """ErfNet whose kernel has a NaN gradient in sw (d sqrt(u) / du at u = 0 times 0)."""

    def nngp_kernel(self, x1, x2):
        return super().nngp_kernel(x1, x2) + 0.0 * jnp.sqrt(self.sw - self.sw)


def test_nonfinite_gradient_warns():
    """The old fit silently returned the initial scales (SingleLayer tanh at coincident points):
    now a warning says the optimiser took no step because the gradient is non-finite."""
    d = synthetic(20)
    with pytest.warns(GPWarning, match="gradient is non-finite") as rec:
        g = fit_gp(_NaNGradient(), d.x, d.y, num_iters=5, optimizer="scipy")
    assert all(w.filename == __file__ for w in rec)
    assert g.kernel.values() == {"sw": 1.0, "sb": 1.0}
    assert np.isfinite(g.log_marginal_likelihood)


def test_sparse_with_inducing_inputs_at_the_data_is_exact():
    """Titsias' bound is tight when the inducing inputs are the training inputs: ELBO = log ML
    and the same predictive (up to the sparse path's 1e-8 jitter)."""
    d = synthetic(30, noise=0.2, seed=1)
    xt = np.linspace(-2, 2, 6)[:, None]
    ex = fit_gp(ErfNet(sw=1.5, sb=0.5), d.x, d.y, noise=0.2, num_iters=0)
    sp = fit_gp(ErfNet(sw=1.5, sb=0.5), d.x, d.y, noise=0.2, num_iters=0, method="sparse", num_inducing=d.n)
    assert isinstance(sp, SparseGPFit) and isinstance(ex, GPFit)
    assert sp.elbo == pytest.approx(ex.log_marginal_likelihood, abs=1e-4)
    pe, ps = ex.predict(xt), sp.predict(xt)
    np.testing.assert_allclose(ps["mean"], pe["mean"], atol=1e-5)
    np.testing.assert_allclose(ps["var_y"], pe["var_y"], atol=1e-5)
    with pytest.raises(NNFTError, match="loo"):
        sp.loo()


def test_sparse_fit_improves_the_elbo_and_stays_below_the_exact_optimum():
    d = synthetic(30, noise=0.2, seed=0)  # the shapes of the large-scale test: its compiled fit is reused
    sp0 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=0, method="sparse", num_inducing=6)
    sp = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=50, method="sparse", num_inducing=6)
    ex = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=50)
    assert sp.elbo > sp0.elbo + 5
    assert sp.elbo <= ex.log_marginal_likelihood + 1e-6  # a lower bound on the optimum
    assert sp.inducing_inputs.shape == (6, 1)


def test_memory_gate(monkeypatch):
    """Beyond the memory cap: method='exact' refuses before allocating, 'auto' goes sparse with a warning."""
    d = synthetic(40)
    monkeypatch.setenv("NNFT_GP_MEMORY_BYTES", str(2 * 20 * 8 * 30**2))
    assert max_exact_n() == 30
    with pytest.raises(NNFTError, match="method='sparse'"):
        fit_gp(ErfNet(), d.x, d.y, num_iters=0, method="exact")
    with pytest.warns(GPWarning, match="sparse variational GP"):
        g = fit_gp(ErfNet(), d.x, d.y, num_iters=0, num_inducing=10)
    assert isinstance(g, SparseGPFit) and np.isfinite(g.elbo)
    monkeypatch.setenv("NNFT_GP_MEMORY_BYTES", "lots")
    with pytest.raises(NNFTError, match="NNFT_GP_MEMORY_BYTES"):
        fit_gp(ErfNet(), d.x, d.y, num_iters=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.delenv("NNFT_GP_MEMORY_BYTES")
        assert max_exact_n() > 1000
