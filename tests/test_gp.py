"""NNGP kernels as GPJax kernels, marginal-likelihood fits, exact GP posterior and LOO, bad input."""

import warnings

import equinox as eqx
import gpjax as gpx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import pytest
from helpers import zoo_arch

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl import NNFTError
from nnft_ppl.architectures import REGISTRY, ErfNet, IIDNeuronArchitecture, ReLUNet, SingleLayer
from nnft_ppl.architectures._fastmath import arccos, arcsin
from nnft_ppl.gp import GPWarning, NNGPKernel, _fit, build_model, fit_gp, relu_as_arccosine, safe_jitter, synthetic
from nnft_ppl.gp._data import check_xy, diabetes_bmi, standardise

X = jnp.linspace(-1.5, 2.0, 6)[:, None]
Y = jnp.array([-0.7, 0.1, 0.4, 1.3])[:, None]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_gpjax_kernel_equals_nngp_kernel(name):
    arch = zoo_arch(name)  # the zoo-wide tests' small instance (KAN's coarse spline grid): same identity
    k = NNGPKernel(arch)
    assert isinstance(k, gpx.kernels.AbstractKernel)
    assert len(k.scales) >= 1 and all(isinstance(p, gpx.parameters.PositiveReal) for p in k.scales.values())
    ref = np.asarray(arch.nngp_kernel(X, Y))
    kxx = np.asarray(arch.nngp_kernel(X, X))

    @eqx.filter_jit
    def views(k):
        pair = jax.vmap(lambda a: jax.vmap(lambda b: k(a, b))(Y))(X)
        return k.cross_covariance(X, Y), pair, k.gram(X).as_matrix(), lx.diagonal(k.diagonal(X))

    cross, pair, gram, diag = views(k)
    np.testing.assert_allclose(cross, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pair, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gram, 0.5 * (kxx + kxx.T), rtol=0, atol=1e-12)
    np.testing.assert_allclose(jnp.diag(gram), diag, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_scales_are_live_parameters(name):
    """Changing a PositiveReal scale changes the kernel exactly as rebuilding the architecture does."""
    arch = REGISTRY[name](width=8)
    k = NNGPKernel(arch)
    s = next(iter(k.scales))
    k2 = NNGPKernel(type(arch)(**{**{f: getattr(arch, f) for f in ("width",)}, s: 1.7}))
    k1 = eqx.tree_at(lambda kk: kk.scales[s], k, gpx.parameters.PositiveReal(jnp.asarray(1.7)))
    np.testing.assert_allclose(k1.cross_covariance(X, Y), k2.cross_covariance(X, Y), rtol=1e-12, atol=1e-12)


def test_relu_equals_arccosine_plus_constant():
    for sw, sb, d in ((1.0, 1.0, 1), (1.7, 0.4, 1), (0.8, 2.1, 3)):
        arch = ReLUNet(sw=sw, sb=sb, d=d)
        x = jax.random.normal(jax.random.key(d), (9, d))
        mine = NNGPKernel(arch).gram(x).as_matrix()
        theirs = relu_as_arccosine(arch).gram(x).as_matrix()
        assert mine.dtype == jnp.float64
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-10)


def test_posterior_mean_equals_direct_cholesky():
    d = synthetic(25, noise=0.2, seed=3)
    g = fit_gp(ErfNet(sw=1.3, sb=0.6), d.x, d.y, noise=0.2, num_iters=0, standardize=False)
    xt = np.linspace(-2, 2, 11)[:, None]
    k = np.asarray(g.arch.nngp_kernel(d.x, d.x))
    ks = np.asarray(g.arch.nngp_kernel(xt, d.x))
    s = k + (0.2**2 + g.jitter) * np.eye(d.n)
    c = np.linalg.cholesky(s)
    alpha = np.linalg.solve(c.T, np.linalg.solve(c, d.y))
    p = g.predict(xt)
    np.testing.assert_allclose(p["mean"], ks @ alpha, rtol=0, atol=1e-8)
    v = np.linalg.solve(c, ks.T)
    kss = np.diag(np.asarray(g.arch.nngp_kernel(xt, xt)))
    np.testing.assert_allclose(p["var_f"], kss - np.sum(v * v, 0), rtol=0, atol=1e-8)
    # exact LOO from the inverse covariance equals brute-force refits and GPJax's own
    loo = g.loo()
    np.testing.assert_allclose(loo, np.asarray(g.posterior().loo()), atol=1e-10)
    i = 7
    keep = np.arange(d.n) != i
    ci = np.linalg.cholesky(s[np.ix_(keep, keep)])
    w = np.linalg.solve(ci, s[keep, i])
    mu, var = w @ np.linalg.solve(ci, d.y[keep]), s[i, i] - w @ w
    assert abs(loo[i] - (-0.5 * np.log(2 * np.pi * var) - 0.5 * (d.y[i] - mu) ** 2 / var)) < 1e-10
    e = g.elpd_loo()
    assert abs(e["elpd"] - loo.sum()) < 1e-12 and e["se"] > 0


def test_marginal_likelihood_fit_improves_with_gpjax_and_optax():
    d = synthetic(30, noise=0.2, seed=0)
    g0 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=0)
    g1 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=40)
    g2 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, optimizer="adam", num_iters=80, learning_rate=0.1)
    assert g1.log_marginal_likelihood > g0.log_marginal_likelihood + 5
    assert g2.log_marginal_likelihood > g0.log_marginal_likelihood + 5
    assert g1.arch.sw != 1.0 and 0.05 < g1.noise < 0.4
    g3 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, fit_noise=False, num_iters=5)
    assert abs(g3.noise - 0.5) < 1e-12
    # optax L-BFGS (gpx.fit_lbfgs, one compiled loop) reaches scipy BFGS's optimum
    g4 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, optimizer="lbfgs", num_iters=200)
    g5 = fit_gp(ErfNet(), d.x, d.y, noise=0.5, optimizer="scipy", num_iters=200)
    assert abs(g4.log_marginal_likelihood - g5.log_marginal_likelihood) < 1e-6 * abs(g5.log_marginal_likelihood)


def test_real_data_is_standardised_with_recorded_transform():
    d = diabetes_bmi(60)
    assert abs(d.x.mean()) < 1e-12 and abs(d.x.std() - 1) < 1e-12 and abs(d.y.std() - 1) < 1e-12
    a = d.attrs()
    assert a["y_scale"] > 10 and "diabetes" in a["dataset"]
    np.testing.assert_allclose(d.unstandardise_y(d.y).mean(), a["y_mean"])


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.r_[np.nan, np.arange(9.0)], np.arange(10.0), "x must be finite"),
        (np.arange(10.0), np.r_[np.inf, np.arange(9.0)], "y must be finite"),
        (np.arange(10.0), np.arange(9.0), "same number of points"),
        (np.arange(3.0), np.arange(3.0), "too few data points"),
        (np.ones((10, 1, 1)), np.arange(10.0), "x must have shape"),
    ],
)
def test_bad_data(x, y, match):
    with pytest.raises(NNFTError, match=match):
        check_xy(x, y)
    with pytest.raises(NNFTError, match=match):
        fit_gp(ErfNet(), x, y, num_iters=0)


def test_bad_arguments():
    with pytest.raises(NNFTError, match="d = 1"):
        fit_gp(ErfNet(), np.ones((10, 2)), np.arange(10.0))
    with pytest.raises(NNFTError, match="optimizer"):
        fit_gp(ErfNet(), np.arange(10.0), np.arange(10.0), optimizer="sgd")
    with pytest.raises(NNFTError, match="noise"):
        build_model(ErfNet(), noise=-1.0)
    with pytest.raises(NNFTError, match="trainable"):
        NNGPKernel(ErfNet(), trainable=("sigma",))
    with pytest.raises(NNFTError, match="y: targets are constant"):
        standardise(np.arange(10.0), np.ones(10))


def test_not_positive_definite_gets_jitter_then_fails_clearly():
    x = np.zeros((8, 1))  # identical points: a rank-one kernel matrix
    tiny = build_model(ErfNet(), noise=1e-9, jitter=0.0)
    with pytest.warns(GPWarning, match="added jitter"):
        jit = safe_jitter(tiny, x)
    assert jit > 0
    model = build_model(_Indefinite(ErfNet()), noise=1e-3, jitter=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NNFTError, match="not positive definite"):
            safe_jitter(model, np.zeros((2, 1)))


class _Indefinite(NNGPKernel):
    """A deliberately broken kernel whose Gram matrix is indefinite."""

    def gram(self, x):
        return lx.MatrixLinearOperator(jnp.array([[1.0, 20.0], [20.0, 1.0]]))


def test_relu_fit_uses_gpjax_gradients():
    """ReLU kernel gradients are finite at coincident points (clipped arc-cosine), so GPJax's
    own L-BFGS fits it and the marginal likelihood improves."""
    d = synthetic(20, noise=0.2, seed=0)
    g0 = fit_gp(ReLUNet(), d.x, d.y, noise=0.5, num_iters=0)
    g1 = fit_gp(ReLUNet(), d.x, d.y, noise=0.5, num_iters=30)
    assert np.all(np.isfinite(g1.history)) and not g1.notes
    assert g1.log_marginal_likelihood > g0.log_marginal_likelihood + 1


def test_vectorised_arcsin_arccos_match_numpy():
    """The rational arcsin/arccos of the broadcast kernels: within 2 ulp of NumPy on
    [-1, 1] (incl. the ends and the branch points), exact derivatives, NaN outside."""
    rng = np.random.default_rng(0)
    tail = 1 - np.logspace(-16, 0, 2000)
    x = np.concatenate([rng.uniform(-1, 1, 20000), tail, -tail, np.logspace(-300, 0, 500), [0.0, 0.5, 0.625, 1.0]])
    x = np.concatenate([x, -x])
    for mine, ref, dref in (
        (arcsin, np.arcsin, lambda u: 1 / np.sqrt((1 - u) * (1 + u))),
        (arccos, np.arccos, lambda u: -1 / np.sqrt((1 - u) * (1 + u))),
    ):
        got, want = np.asarray(jax.jit(mine)(x)), ref(x)
        assert np.all(np.abs(got - want) <= 2 * np.spacing(np.abs(want))), mine
        u = x[np.abs(x) < 0.999]
        np.testing.assert_allclose(jax.vmap(jax.grad(mine))(u), dref(u), rtol=1e-14)
        assert np.all(np.isnan(np.asarray(mine(jnp.array([1.5, -1.5, jnp.nan])))))


@pytest.mark.parametrize(
    "arch",
    [
        ErfNet(sw=1.3, sb=0.6, d=3),
        ReLUNet(sw=0.9, sb=0.2, d=2),
        SingleLayer(activation="erf", d=10, sw=1.1),  # d > 8: matmul contraction
        SingleLayer(activation="relu", d=1),
        SingleLayer(activation="cos", d=2),
    ],
    ids=lambda a: f"{a.name}-{a.act.name}-d{a.d}",
)
def test_broadcast_kernel_equals_per_pair_kernel(arch):
    """Single-layer closed-form duals as one broadcast (`AbstractSingleLayer.nngp_kernel`):
    equal to the generic pair-by-pair kernel, an exactly symmetric Gram matrix, the same
    diagonal and the same gradients in the scales."""
    pairwise = lambda a, x1, x2: IIDNeuronArchitecture.nngp_kernel(a, x1, x2)
    x = jax.random.normal(jax.random.key(arch.d), (40, arch.d))
    xt = jax.random.normal(jax.random.key(7), (9, arch.d))
    x = x.at[5].set(x[3])  # coincident points: the ReLU arccos at its clip
    k = NNGPKernel(arch)
    gram = np.asarray(jax.jit(lambda k: k.gram(x).as_matrix())(k))
    assert np.array_equal(gram, gram.T)
    np.testing.assert_allclose(gram, pairwise(arch, x, x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(k.cross_covariance(xt, x), pairwise(arch, xt, x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(lx.diagonal(k.diagonal(x)), np.diag(gram), rtol=1e-13, atol=1e-13)

    def total(sc, per_pair):
        kk = eqx.tree_at(lambda kk: kk.scales, k, sc)
        return jnp.sum(pairwise(kk.arch, x, x) if per_pair else kk.gram(x).as_matrix())

    g1, g2 = jax.grad(total)(k.scales, False), jax.grad(total)(k.scales, True)
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_fit_factorises_once_and_does_not_retrace():
    """One GPJax posterior per fit, reused by the log ML, predict and LOO; a second fit of
    the same shapes compiles nothing; the mean-only prediction equals the full one."""
    d = synthetic(40, noise=0.2, seed=1)
    xt = np.linspace(-2, 2, 7)[:, None]
    g = fit_gp(ErfNet(sw=1.3, sb=0.6), d.x, d.y, noise=0.2, num_iters=0, standardize=False)
    post = g.posterior()
    assert post is g.posterior() and isinstance(post, gpx.conditioning.ExactPosterior)
    assert g.log_marginal_likelihood == float(post.log_marginal_likelihood)
    p = g.predict(xt)
    np.testing.assert_allclose(g.predict(xt, variance=False)["mean"], p["mean"], rtol=0, atol=1e-12)
    dist = post(jnp.asarray(xt), covariance="diagonal")  # GPJax's own diagonal predictive
    np.testing.assert_allclose(p["mean"], dist.mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p["var_f"] + g.jitter, dist.variance, rtol=0, atol=1e-12)
    g.loo()
    jitted = (_fit._condition, _fit._predict, _fit._predict_mean, _fit._loo_from_factor)
    sizes = [f._cache_size() for f in jitted]
    g2 = fit_gp(ErfNet(sw=1.3, sb=0.6), d.x, d.y + 0.1, noise=0.2, num_iters=0, standardize=False)
    g2.predict(xt), g2.predict(xt, variance=False), g2.loo()
    assert [f._cache_size() for f in jitted] == sizes
    assert g2.posterior() is not post
    # a GPFit built by hand conditions lazily
    g3 = _fit.GPFit(g.model, x=g.x, y=g.y, history=g.history, y_mean=g.y_mean, y_scale=g.y_scale)
    assert g3.log_marginal_likelihood == pytest.approx(g.log_marginal_likelihood, rel=1e-14)


def test_fit_gp_applies_the_jitter_ladder():
    """Repeated inputs with almost no noise: GPJax's factorisation fails, the ladder adds a
    recorded jitter, and the fit's posterior is finite."""
    x = np.repeat(np.linspace(-1, 1, 4), 3)
    y = np.sin(x)
    with pytest.warns(GPWarning, match="added jitter"):
        g = fit_gp(ErfNet(), x, y, noise=1e-9, jitter=0.0, num_iters=0)
    assert g.jitter > 0 and any("added jitter" in n for n in g.notes)
    assert np.isfinite(g.log_marginal_likelihood)
    assert np.all(np.isfinite(np.asarray(g.posterior().cholesky_factor)))
    assert np.all(np.isfinite(g.predict(np.zeros((2, 1)))["mean"]))


@pytest.mark.parametrize("fit_noise", [True, False])
def test_neg_mll_equals_gpjax_objective_and_its_autodiff_gradient(fit_noise):
    """The fitting objective: GPJax's conjugate_mll, with the closed-form gradient in S."""
    d = synthetic(30, noise=0.2, seed=2)
    data = gpx.Dataset(X=jnp.asarray(d.x), y=jnp.asarray(d.y)[:, None])
    model = build_model(ReLUNet(sw=1.2, sb=0.4), noise=0.3, fit_noise=fit_noise)
    ref = lambda m: -gpx.objectives.conjugate_mll(m, data)  # noqa: E731
    mine = lambda m: _fit.neg_mll(m, data)  # noqa: E731
    np.testing.assert_allclose(mine(model), ref(model), rtol=1e-13)
    g_ref, g_mine = eqx.filter_grad(ref)(model), eqx.filter_grad(mine)(model)
    for a, b in zip(jax.tree_util.tree_leaves(g_ref), jax.tree_util.tree_leaves(g_mine), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
