"""Neural tangent kernels (issue 14 item 1) and parametrisations (item 2).

Deterministic identities (closed form vs Jacobian, GPJax kernel vs function) to float64 rounding;
the analytic NTK against the ensemble mean of empirical NTKs within 4 SE (Bonferroni), fixed keys."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_within_se, sorted_unique
from numpyro import handlers

from nnft_ppl import NNFTError
from nnft_ppl._tails import keep_size, max_khat
from nnft_ppl.architectures import CosNet, DeepMLP, ErfNet, GaussNet, LinearFeatures, ReLUNet, SingleLayer
from nnft_ppl.dynamics import Parametrized, empirical_ntk, ntk_by_jacobian, ntk_kernel
from nnft_ppl.gp import NTKKernel


def _draws(model, m, seed=0):
    keys = jax.random.split(jax.random.key(seed), m)
    return jax.vmap(lambda k: model.sample_theta(k, jnp.float64))(keys)


def _ensemble(model, m, seed=0):
    return jax.jit(lambda: _draws(model, m, seed))()


def _points(d, p=3, seed=1):
    return np.asarray(jax.random.uniform(jax.random.key(seed), (p, d), jnp.float64, -0.8, 0.8))


def test_single_layer_closed_form_equals_jacobian_contraction():
    """The closed-form NTK of single-layer nets = jacrev + contraction, to float64 rounding,
    for a batch of networks, each parametrisation once (d = 3, and GaussNet's normalised features)."""
    x1, x2 = _points(3, 4), _points(3, 3, seed=2)
    for arch, par in (
        (ErfNet(width=7, d=3), "standard"),
        (ReLUNet(width=7, d=3), "ntk"),
        (GaussNet(width=7, d=3, sw=0.7), "mup"),
    ):
        model = Parametrized(arch, par)
        theta = _ensemble(model, 3)
        # both in one compiled function: one compile per architecture instead of two
        both = jax.jit(lambda t, m=model: (empirical_ntk(m, t, x1, x2), ntk_by_jacobian(m, t, x1, x2)))
        fast, ref = map(np.asarray, both(theta))
        assert fast.shape == (3, 4, 3)
        np.testing.assert_allclose(fast, ref, rtol=1e-13, atol=1e-14 * np.abs(ref).max())


def test_implicit_ntk_equals_jacobian_contraction():
    """The implicit (vjp/jvp) NTK of other networks = jacrev + contraction, for a batch."""
    x = _points(1, 3)
    model = Parametrized(DeepMLP(width=6, depth=2), "mup")  # per-site learning-rate weights too
    theta = _ensemble(model, 2)
    fast, ref = jax.jit(lambda t: (empirical_ntk(model, t, x), ntk_by_jacobian(model, t, x, x)))(theta)
    np.testing.assert_allclose(fast, ref, rtol=1e-13)


CASES = {  # (arch, networks): single-layer NTK means are exact at any width; DeepMLP's carry O(1/N)
    "ErfNet": (lambda d: ErfNet(width=16, d=d), 4000),
    "ReLUNet": (lambda d: ReLUNet(width=16, d=d), 4000),
    "GaussNet": (lambda d: GaussNet(width=16, d=d, sw=0.5, sb=0.5), 4000),
    "SingleLayer": (lambda d: SingleLayer(width=16, d=d, activation="tanh"), 4000),
    "DeepMLP": (lambda d: DeepMLP(width=64, depth=2, d=d), 128),
}


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_analytic_ntk_is_the_ensemble_mean(name, d):
    """ntk_kernel = E[empirical NTK] in the NTK parametrisation (Bonferroni over the distinct
    entries); DeepMLP at width 64, where its O(1/N) bias is ~0.1 SE. The summands' k-hat < 0.5."""
    make, m = CASES[name]
    arch = make(d)
    x = _points(d)
    model = Parametrized(arch, "ntk")
    # draws, empirical NTKs and the analytic NTK in one compiled function (one compile per case)
    emp, ref = jax.jit(lambda: (empirical_ntk(model, _draws(model, m, seed=3), x), ntk_kernel(arch, x)))()
    emp = np.asarray(emp)
    top = np.sort(np.abs(emp.reshape(m, -1)).T, axis=1)[:, -keep_size(m) :]
    assert max_khat(top, m, 1.0) < 0.5
    se = emp.std(0, ddof=1) / np.sqrt(m)
    assert_within_se(emp.mean(0), se, np.asarray(ref), None, sorted_unique(se.shape), what=name)


def test_analytic_ntk_closed_form_duals_match_quadrature():
    """The closed-form derivative dual of erf = the quadrature SingleLayer uses for a user function
    with the same values, to 1e-12 (160-node Gauss-Hermite on a smooth integrand)
    (relu's derivative is a step, on which Gauss-Hermite converges slowly: checked against the
    ensemble mean only)."""
    x = _points(3, 4)
    closed = ntk_kernel(SingleLayer(width=3, d=3, activation="erf"), x)
    quad = ntk_kernel(SingleLayer(width=3, d=3, activation=jax.scipy.special.erf), x)
    np.testing.assert_allclose(closed, quad, rtol=1e-12)


def test_ntk_gpjax_kernel_equals_the_function():
    x, y = _points(3, 5), _points(3, 4, seed=4)
    for arch in (ErfNet(width=3, d=3, sw=1.3), DeepMLP(width=3, depth=3, d=3, activation="erf")):
        kern = NTKKernel(arch)
        ref = np.asarray(ntk_kernel(arch, x, y))
        np.testing.assert_allclose(kern.cross_covariance(x, y), ref, rtol=1e-12, atol=0)
        np.testing.assert_allclose(kern(x[0], y[1]), ref[0, 1], rtol=1e-12)
        np.testing.assert_allclose(np.diag(kern.gram(x).as_matrix()), np.diag(ntk_kernel(arch, x)), rtol=1e-12)
    with pytest.raises(NNFTError, match="arch"):
        NTKKernel(CosNet(width=3))


def test_parametrizations_prior_in_function_space():
    """NTK parametrisation: the very same functions as the standard one (draw by draw, to rounding);
    muP: the readout part of G2 is divided by N, G2 = sb^2 + (K - sb^2) / N (single-layer G2 is
    exact at any width), checked within 4 SE (Bonferroni) on 4000 networks."""
    arch, x = ErfNet(width=8, sw=1.2, sb=0.6), _points(1, 3)
    theta = _ensemble(arch, 4000, seed=5)
    phi = jax.vmap(lambda t: arch.apply(t, x))(theta)
    ntk = Parametrized(arch, "ntk")
    same = jax.vmap(lambda t: ntk.apply(ntk.from_theta(t), x))(theta)
    np.testing.assert_allclose(same, phi, rtol=1e-13, atol=1e-14)
    mup = Parametrized(arch, "mup")
    f = np.asarray(jax.vmap(lambda t: mup.apply(mup.from_theta(t), x))(theta))
    g2 = f.T @ f / len(f)
    se = np.sqrt(np.var(f[:, :, None] * f[:, None, :], axis=0, ddof=1) / len(f))
    k = np.asarray(arch.nngp_kernel(x, x))
    assert_within_se(g2, se, arch.sb**2 + (k - arch.sb**2) / arch.width, None, sorted_unique(se.shape), what="muP G2")
    assert mup.lr_scale == 8.0 and ntk.lr_scale == 1.0
    tr = handlers.trace(handlers.seed(mup.prior, jax.random.key(6))).get_trace(x)  # the NumPyro model
    omega = {k.removeprefix("omega_"): v["value"] for k, v in tr.items() if k.startswith("omega_")}
    np.testing.assert_allclose(tr["phi"]["value"], mup.apply(omega, x), rtol=1e-14)


def test_bad_input_names_the_argument():
    arch = ErfNet(width=4)
    with pytest.raises(NNFTError, match="parametrization"):
        Parametrized(arch, "mean-field")
    with pytest.raises(NNFTError, match="parametrization"):
        Parametrized(LinearFeatures(width=3), "mup")  # no readout layer to rescale
    with pytest.raises(NNFTError, match="theta"):
        empirical_ntk(arch, {"W0": jnp.ones((4, 1))}, np.zeros(2))
    with pytest.raises(NNFTError, match="arch"):
        ntk_kernel(CosNet(width=3), np.zeros(2))
    with pytest.raises(NNFTError, match="x1"):
        empirical_ntk(arch, arch.sample_theta(jax.random.key(0)), np.zeros((2, 3)))
