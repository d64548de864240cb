"""The readout-collapsed Bayesian network is exact: its marginal likelihood satisfies the
candidate's identity with the full model, and its readout draws follow the conditional."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro import handlers

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl import NNFTError
from nnft_ppl.gp import bnn_regression, collapsed_regression, collapsible, readout_draws, run_nuts, synthetic
from tests.helpers import ZOO, assert_within_se, zoo_arch

COLLAPSIBLE = [n for n in ZOO if collapsible(zoo_arch(n))]


def _setup(name, seed=0):
    arch = zoo_arch(name, width=5)
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.uniform(-1.5, 1.5, (7, 1)))
    y = jnp.asarray(rng.standard_normal(7))
    theta = handlers.trace(handlers.seed(arch.prior, jax.random.key(seed))).get_trace()
    theta = {k: v["value"] for k, v in theta.items() if v["type"] == "sample"}
    return arch, x, y, theta


def _site_log_probs(model, args, values, key):
    """Log density of each sample site of `model` with `values` substituted."""
    tr = handlers.trace(handlers.substitute(handlers.seed(model, key), data=values)).get_trace(*args)
    return {k: float(jnp.sum(v["fn"].log_prob(v["value"]))) for k, v in tr.items() if v["type"] == "sample"}


@pytest.mark.parametrize("name", COLLAPSIBLE)
def test_marginal_likelihood_identity(name):
    """log p(y | hidden) = log p(y, a, b | hidden) - log p(a, b | y, hidden) at any readout (a, b):
    the collapsed model's `y` site against the full model, with the exact weight-space conditional."""
    arch, x, y, theta = _setup(name)
    sigma = 0.4
    hidden = arch.hidden_sites(theta)
    # the collapsed model draws its hidden layer non-centred: take its own draw and substitute the full
    # model's readout into the full model at the same hidden values
    tr = handlers.trace(handlers.seed(collapsed_regression, jax.random.key(5))).get_trace(arch, x, y, sigma)
    hidden = {k: tr[k]["value"] for k in hidden}
    lp_coll = float(tr["y"]["fn"].log_prob(y))
    full = _site_log_probs(bnn_regression, (arch, x, y, None, sigma), {**theta, **hidden}, jax.random.key(0))
    lp_full = full["y"] + full[arch.readout_site] + full.get(arch.bias_site, 0.0)
    out = readout_draws(
        arch,
        jax.tree.map(lambda v: v[None], hidden),
        jnp.array([sigma]),
        x,
        y,
        x,
        jax.random.split(jax.random.key(1), 1),
    )
    # exact Gaussian conditional of the readout, in weight space
    h = arch.features(hidden, x)
    s2 = arch.readout_std**2 / arch.width
    feats, prec0 = [h], [jnp.full(arch.width, 1 / s2)]
    w = [theta[arch.readout_site]]
    if arch.bias_std > 0:
        feats.append(jnp.ones((1, x.shape[0])))
        prec0.append(jnp.array([1 / arch.bias_std**2]))
        w.append(jnp.atleast_1d(theta[arch.bias_site]))
    phi, w = jnp.concatenate(feats), jnp.concatenate(w)
    prec = jnp.diag(jnp.concatenate(prec0)) + phi @ phi.T / sigma**2
    cov = jnp.linalg.inv(prec)
    mean = cov @ phi @ y / sigma**2
    log_cond = jax.scipy.stats.multivariate_normal.logpdf(w, mean, cov)
    np.testing.assert_allclose(float(lp_coll), float(lp_full - log_cond), rtol=1e-10, atol=1e-10)
    # the conditional test moments equal the weight-space ones (test points = data points here)
    np.testing.assert_allclose(np.asarray(out["f_test_cmean"][0]), np.asarray(phi.T @ mean), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        np.asarray(out["f_test_cvar"][0]), np.asarray(jnp.sum(phi * (cov @ phi), 0)), rtol=1e-8, atol=1e-10
    )
    # the readout-integrated LOO densities: condition on the other n - 1 points directly
    k = phi.T @ (jnp.diag(1 / jnp.concatenate(prec0)) @ phi) + sigma**2 * jnp.eye(x.shape[0])
    for i in range(x.shape[0]):
        o = np.delete(np.arange(x.shape[0]), i)
        g = jnp.linalg.solve(k[np.ix_(o, o)], k[o, i])
        lp = jax.scipy.stats.norm.logpdf(y[i], g @ y[o], jnp.sqrt(k[i, i] - g @ k[o, i]))
        np.testing.assert_allclose(float(out["loo_loglik"][0, i]), float(lp), rtol=1e-9)


@pytest.mark.parametrize("name", ["ErfNet", "CosNet"])
def test_readout_draws_follow_the_conditional(name):
    """20,000 pathwise-conditioned draws for one hidden layer: mean and variance of f_test
    against the closed-form conditional moments (4 SE, Bonferroni over points and moments)."""
    arch, x, y, theta = _setup(name, seed=3)
    hidden = arch.hidden_sites(theta)
    m = 20_000
    xt = jnp.linspace(-2.0, 2.0, 5)[:, None]
    rep = jax.tree.map(lambda v: jnp.broadcast_to(v, (m, *v.shape)), hidden)
    out = readout_draws(arch, rep, jnp.full(m, 0.3), x, y, xt, jax.random.split(jax.random.key(7), m))
    ft = np.asarray(out["f_test"])
    cm, cv = np.asarray(out["f_test_cmean"][0]), np.asarray(out["f_test_cvar"][0])
    # the mean: SE sqrt(cv / m); the variance: SE of a sample variance of a Gaussian, cv sqrt(2 / (m - 1))
    dev = np.concatenate([ft.mean(0) - cm, ft.var(0, ddof=1) - cv])
    se = np.concatenate([np.sqrt(cv / m), cv * np.sqrt(2 / (m - 1))])
    assert_within_se(dev, se, 0.0, n_blocks=None, what="conditional readout draws")
    # the draws are consistent: f at the data is the same readout applied there
    assert np.all(np.isfinite(np.asarray(out["f"])))


def test_collapse_flag():
    d = synthetic(10)
    with pytest.raises(NNFTError, match="collapse"):
        run_nuts(zoo_arch("DeepMLP"), d.x, d.y, collapse=True)
