# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""The readout-collapsed Bayesian network for architectures with i.i.d. neurons.

phi(x) = b + sum_i a_i h(theta_i; x) with Gaussian a_i ~ N(0, s^2/N), b ~ N(0, s_b^2) and a
Gaussian likelihood: given the hidden layer theta, (a, b) is conjugate, so

    y | theta, sigma ~ N(0, (s^2/N) H^T H + s_b^2 + sigma^2 I),   H = h(theta; x)   (N, n).

NUTS then samples only theta (and sigma), on a much better conditioned posterior; the readout
is drawn afterwards from its exact Gaussian conditional by pathwise conditioning, so every draw
is a draw of the full joint posterior. The conditional predictive moments of f at the test
points given theta are kept too: averaging them (Rao-Blackwellisation) estimates the network's
predictive mean and variance with a far smaller Monte Carlo error than the raw draws of f.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Float
from numpyro import handlers
from numpyro.infer.reparam import LocScaleReparam

from ..architectures import Architecture, IIDNeuronArchitecture
from ._fit import loo_from_inverse


def collapsible(arch: Architecture) -> bool:
    """Whether `arch` has a Gaussian linear readout that can be integrated out."""
    return isinstance(arch, IIDNeuronArchitecture)


def _decenter(msg):
    """Non-centred Gaussian sites (`<site>_decentered` ~ N(0, 1)): NUTS then sees unit scales
    however small a fitted prior scale is (a marginal-likelihood fit can drive s_b to ~1e-5)."""
    if msg["name"].endswith("_decentered"):
        return None
    fn = msg["fn"]
    while isinstance(fn, (dist.ExpandedDistribution, dist.Independent)):
        fn = fn.base_dist
    return LocScaleReparam(0) if isinstance(fn, dist.Normal) else None


def hidden_site_names(arch: IIDNeuronArchitecture) -> list[str]:
    """The architecture's own hidden-layer site names (what `features` reads)."""
    names: list[str] = []

    def draw():  # traced abstractly: the names (in the prior's order), without running it op by op
        hidden = arch.sample_hidden(jax.random.key(0))
        names.extend(hidden)
        return hidden

    jax.eval_shape(draw)
    return names


def _sigma(noise, noise_prior_scale, dtype):
    if noise is None:
        return numpyro.sample("sigma", dist.HalfNormal(noise_prior_scale))
    return numpyro.deterministic("sigma", jnp.asarray(noise, dtype))


def collapsed_regression(
    arch: IIDNeuronArchitecture,
    x: Float[Array, "n d"],
    y: Float[Array, " n"] | None = None,
    noise: float | None = None,
    noise_prior_scale: float = 1.0,
):
    """NumPyro model over the hidden layer (plate `neurons`; the architecture's Gaussian
    sites non-centred, `<site>_decentered`, with `<site>` kept as a deterministic) and
    `sigma`, with the readout integrated out: y ~ MultivariateNormal (site `y`)."""
    with numpyro.plate("neurons", arch.width), handlers.reparam(config=_decenter):
        hidden = arch.neuron_prior(x.dtype)
    sigma = _sigma(noise, noise_prior_scale, x.dtype)
    h = arch.features(hidden, x)
    cov = arch.conditional_kernel(h, h) + sigma**2 * jnp.eye(x.shape[0], dtype=x.dtype)
    mvn = dist.MultivariateNormal(jnp.zeros(x.shape[0], x.dtype), covariance_matrix=cov, validate_args=False)
    numpyro.sample("y", mvn, obs=y)


def readout_draws(arch: IIDNeuronArchitecture, hidden: dict, sigma, x, y, x_test, keys) -> dict:
    """For each posterior draw of (hidden, sigma) (leading axis): one exact draw of the
    readout (W1, b1) from its Gaussian conditional, the implied f at x and x_test, the
    conditional mean and variance of f at x_test given the hidden layer, and the
    readout-integrated leave-one-out log densities `loo_loglik` (n,).

    Pathwise conditioning: with prior draws (a0, b0) and noise e0,
    (a, b) = (a0, b0) + Cov[(a, b), f(x)] (K + sigma^2 I)^-1 (y - f0(x) - e0)."""
    return readout_fn(arch, x, y, x_test)(hidden, sigma, keys)


def readout_fn(arch: IIDNeuronArchitecture, x, y, x_test):
    """`readout_draws` for fixed (arch, x, y, x_test) as one jitted (hidden, sigma, keys) -> dict, to call
    on several batches of draws with one compilation per batch shape."""
    s2 = arch.readout_std**2 / arch.width
    b2 = arch.bias_std**2
    n = x.shape[0]

    def one(hid, sig, key):
        h = arch.features(hid, x)  # (N, n)
        ht = arch.features(hid, x_test)  # (N, m)
        k = arch.conditional_kernel(h, h) + sig**2 * jnp.eye(n, dtype=x.dtype)
        chol = jnp.linalg.cholesky(k)
        solve = lambda r: jax.scipy.linalg.cho_solve((chol, True), r)
        ka, kb, ke = jax.random.split(key, 3)
        a0 = jnp.sqrt(s2) * jax.random.normal(ka, (arch.width,), x.dtype)
        b0 = jnp.sqrt(b2) * jax.random.normal(kb, (), x.dtype)
        e0 = sig * jax.random.normal(ke, (n,), x.dtype)
        r = solve(y - (a0 @ h + b0) - e0)
        a = a0 + s2 * (h @ r)
        b = b0 + b2 * jnp.sum(r)
        # conditional moments of f(x_test) given the hidden layer
        kxt = arch.conditional_kernel(h, ht)  # (n, m)
        ktt = jnp.diagonal(arch.conditional_kernel(ht, ht))
        cmean = kxt.T @ solve(y)
        cvar = jnp.maximum(ktt - jnp.sum(kxt * solve(kxt), 0), 0.0)
        loo = loo_from_inverse(solve(jnp.eye(n, dtype=x.dtype)), y)  # log p(y_i | y_-i, hidden, sigma)
        out = {
            arch.readout_site: a,
            "f": a @ h,
            "f_test": a @ ht,
            "f_test_cmean": cmean,
            "f_test_cvar": cvar,
            "loo_loglik": loo,
        }
        if arch.has_output_bias:
            out[arch.bias_site] = b
            out["f"] = out["f"] + b
            out["f_test"] = out["f_test"] + b
        return out

    return jax.jit(jax.vmap(one))
