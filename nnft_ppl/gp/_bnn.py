# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Finite-width Bayesian networks: the architecture's own prior with a Gaussian
likelihood, sampled by NUTS and returned as an ArviZ DataTree with convergence
diagnostics that are reported, never silenced."""

from __future__ import annotations

import warnings

import arviz_stats as azs
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import scipy.stats
from jaxtyping import Array, Float
from numpyro.infer import MCMC, NUTS, init_to_sample

from .. import _validate as V
from .._errors import NNFTError
from .._keys import as_key
from ..architectures import Architecture
from . import _tree as T
from ._collapsed import collapsed_regression, collapsible, hidden_site_names, readout_fn
from ._data import check_xy

#: R-hat above this (on the identified quantities) is flagged
RHAT_MAX = 1.01


class BNNWarning(UserWarning):
    """NUTS did not converge cleanly (divergences or R-hat > 1.01)."""


def bnn_regression(
    arch: Architecture,
    x: Float[Array, "n d"],
    y: Float[Array, " n"] | None = None,
    x_test: Float[Array, "m d"] | None = None,
    noise: float | None = None,
    noise_prior_scale: float = 1.0,
):
    """NumPyro model: theta from `arch.prior`, f = phi_theta at the data (site `f`) and
    at `x_test` (site `f_test`), noise scale `sigma` (a HalfNormal site, or fixed and
    recorded when `noise` is given), and y ~ Normal(f, sigma)."""
    n = x.shape[0]
    pts = x if x_test is None else jnp.concatenate([x, x_test], axis=0)
    phi = arch.prior(pts)
    f = numpyro.deterministic("f", phi[:n])
    if x_test is not None:
        numpyro.deterministic("f_test", phi[n:])
    if noise is None:
        sigma = numpyro.sample("sigma", dist.HalfNormal(noise_prior_scale))
    else:
        sigma = numpyro.deterministic("sigma", jnp.asarray(noise, x.dtype))
    with numpyro.plate("obs_id", n):
        numpyro.sample("y", dist.Normal(f, sigma, validate_args=False), obs=y)


def _draw_readout(arch, samples, noise, x, y, xt, key, shape, batch: int = 1024) -> dict:
    """Exact conditional readout draws and conditional test moments for every posterior draw."""
    hidden = {k: samples[k] for k in hidden_site_names(arch)}
    sigma = samples["sigma"] if noise is None else None
    total = shape[0] * shape[1]
    # batches of one size (the last padded by repeating its final draw, then trimmed): one compilation
    n_batches = -(-total // batch)
    size = -(-total // n_batches)
    idx = np.minimum(np.arange(n_batches * size), total - 1).reshape(n_batches, size)
    fn = readout_fn(arch, x, y, xt)

    keys = jax.random.split(key, total)

    @jax.jit  # the flattening and the gathers in one program (op by op, each compiled alone)
    def rows(hidden, sigma, keys, i):
        flat = {k: jnp.reshape(v, (-1, *v.shape[2:]))[i] for k, v in hidden.items()}
        sig = jnp.full((total,), noise, x.dtype) if sigma is None else jnp.reshape(sigma, (-1,))
        return fn(flat, sig[i], keys[i])

    outs = [rows(hidden, sigma, keys, i) for i in idx]
    return {
        k: np.concatenate([np.asarray(o[k]) for o in outs])[:total].reshape(*shape, *outs[0][k].shape[1:])
        for k in outs[0]
    }


#: old spellings of run_nuts's arguments (one release, with a DeprecationWarning) -> NumPyro's names
RENAMED = {"seed": "rng_key", "target_accept": "target_accept_prob", "progress": "progress_bar"}


def _renamed(old_kwargs: dict, current: dict, fn: str = "run_nuts", renamed: dict = RENAMED) -> dict:
    """`current` with the deprecated spellings in `old_kwargs` moved to their new names, each with a
    `DeprecationWarning` at the caller of `fn` (call this directly from `fn`); unknown names are refused."""
    for old, value in old_kwargs.items():
        if old not in renamed:
            raise NNFTError(f"{fn}: unknown argument {old!r}; did you mean one of {sorted(renamed.values())}?")
        new = renamed[old]
        warnings.warn(f"{fn}({old}=...) is deprecated (removed in 0.2); use {new}=", DeprecationWarning, stacklevel=3)
        current[new] = value
    return current


def _check_nuts(arch, x, y, x_test, opts: dict):
    xa, ya = check_xy(x, y)
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
    if xa.shape[1] != arch.d:
        raise NNFTError(f"x has input dimension {xa.shape[1]} but the architecture has d = {arch.d}")
    xt = None if x_test is None else V.points("x_test", x_test, arch.d)
    if opts["noise"] is not None:
        opts["noise"] = V.positive("noise", opts["noise"])
    V.positive("noise_prior_scale", opts["noise_prior_scale"])
    for k in ("num_warmup", "num_samples", "max_tree_depth"):
        opts[k] = V.integer(k, opts[k])
    opts["num_chains"] = V.integer("num_chains", opts["num_chains"], minimum=2)
    if opts["chain_method"] not in ("vectorized", "sequential", "parallel"):
        raise NNFTError(f"chain_method: must be 'vectorized', 'sequential' or 'parallel', got {opts['chain_method']!r}")
    tap = opts["target_accept_prob"]
    if isinstance(tap, bool) or not isinstance(tap, (int, float, np.floating)) or not 0.5 <= float(tap) < 1.0:
        raise NNFTError(f"target_accept_prob: must be a number in [0.5, 1), got {tap!r}")
    opts["key"] = as_key(opts["rng_key"], "rng_key")
    return xa, ya, xt


def run_nuts(
    arch: Architecture,
    x,
    y,
    x_test=None,
    *,
    rng_key=0,
    noise: float | None = None,
    noise_prior_scale: float = 1.0,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 4,
    chain_method: str = "vectorized",
    target_accept_prob: float = 0.9,
    max_tree_depth: int = 8,
    progress_bar: bool = False,
    collapse: bool | None = None,
    **deprecated,
):
    """Sample the width-`arch.width` Bayesian network posterior with NUTS (NumPyro's argument
    names: `rng_key` is an int seed or a JAX key; the old `seed`, `target_accept` and `progress`
    still work for one release, with a `DeprecationWarning`).

    With `collapse` (the default for architectures with i.i.d. neurons) NUTS samples the
    hidden layer and sigma with the Gaussian readout integrated out, and the readout is then
    drawn from its exact conditional (see `collapsed_regression`); the tree also holds the
    conditional predictive moments `f_test_cmean`, `f_test_cvar` used for Rao-Blackwellised
    predictive estimates. `collapse=False` samples every weight with NUTS.

    Returns an ArviZ DataTree in ArviZ's conventions: posterior (weights with dims `neuron`,
    `input_dim`, ...; `f` on `point`, `f_test` on `test_point`, the points as coordinates in
    d = 1; `sigma`), posterior_predictive (`y`), log_likelihood, sample_stats (energy,
    diverging, n_steps, acceptance_rate, step_size, lp, tree_depth), observed_data (y) and
    constant_data (x, x_test). Its attrs record the architecture's parameters, the library
    version and the diagnostics: `rhat_max` and `ess_bulk_min` over the identified
    quantities (f, f_test and a sampled sigma; the weights themselves are identified
    only up to the network's symmetries, their `rhat_max_weights` is informational),
    `divergences`, and `warnings` (empty when the run is clean).
    """
    opts = _renamed(deprecated, dict(locals()))
    xa, ya, xt = _check_nuts(arch, x, y, x_test, opts)
    collapse = collapsible(arch) if collapse is None else bool(collapse)
    if collapse and not collapsible(arch):
        raise NNFTError(f"collapse: {arch.name} has no Gaussian linear readout to integrate out")
    mcmc, samples, k_pp = _sample_posterior(arch, xa, ya, xt, opts, collapse)
    dt = _posterior_tree(arch, mcmc, samples, k_pp, xa, ya, xt, opts["noise"], collapse)
    diag = diagnostics(dt, identified=["f", "f_test"] + (["sigma"] if opts["noise"] is None else []))
    key_attr = opts["rng_key"] if isinstance(opts["rng_key"], (int, np.integer)) else "a JAX key"
    dt.attrs.update(
        {
            **T.arch_attrs(arch),
            "width": int(getattr(arch, "width", 0)),
            "noise_fixed": float(opts["noise"]) if opts["noise"] is not None else "sampled",
            "num_chains": int(opts["num_chains"]),
            "num_samples": int(opts["num_samples"]),
            "num_warmup": int(opts["num_warmup"]),
            "rng_key": str(key_attr),
            "collapsed": int(collapse),
            **diag,
        }
    )
    if diag["warnings"]:
        warnings.warn(f"NUTS for {arch.name}(width={dt.attrs['width']}): {diag['warnings']}", BNNWarning, stacklevel=2)
    return dt


def _sample_posterior(arch, xa, ya, xt, opts: dict, collapse: bool):
    """Run NumPyro NUTS on the (collapsed or full) regression model; with the readout collapsed,
    draw it from its exact conditional. Returns the MCMC object, the samples by chain (the
    integrated LOO densities under `loo_loglik`) and the key for the posterior predictive."""
    noise, noise_prior_scale = opts["noise"], opts["noise_prior_scale"]
    xj, yj = jnp.asarray(xa), jnp.asarray(ya)
    xtj = jnp.asarray(xa[:1] if xt is None else xt)
    model = collapsed_regression if collapse else bnn_regression
    kernel = NUTS(
        model,
        target_accept_prob=float(opts["target_accept_prob"]),
        max_tree_depth=opts["max_tree_depth"],
        init_strategy=init_to_sample,
    )
    mcmc = MCMC(
        kernel,
        num_warmup=opts["num_warmup"],
        num_samples=opts["num_samples"],
        num_chains=opts["num_chains"],
        chain_method=opts["chain_method"],
        progress_bar=bool(opts["progress_bar"]),
    )
    k_run, k_pp, k_read = jax.random.split(opts["key"], 3)
    args = (
        (arch, xj, yj, noise, noise_prior_scale)
        if collapse
        else (arch, xj, yj, xtj if xt is not None else None, noise, noise_prior_scale)
    )
    mcmc.run(k_run, *args, extra_fields=T.EXTRA_FIELDS)
    samples = mcmc.get_samples(group_by_chain=True)
    samples.pop("phi", None)
    if collapse:
        shape = (opts["num_chains"], opts["num_samples"])
        samples.update(_draw_readout(arch, samples, noise, xj, yj, xtj, k_read, shape))
    return mcmc, samples, k_pp


def _posterior_tree(arch, mcmc, samples: dict, k_pp, xa, ya, xt, noise, collapse: bool):
    """The NUTS run as a DataTree in ArviZ's conventions (see `run_nuts`), with the posterior
    predictive y ~ Normal(f, sigma) and, when collapsed, the Rao-Blackwellised moments and the
    readout-integrated LOO densities."""
    loo = np.asarray(samples.pop("loo_loglik")) if collapse else None  # a log density, not a variable
    f = np.asarray(samples["f"])
    sig = np.asarray(samples["sigma"])[..., None] if noise is None else noise
    # posterior predictive y ~ Normal(f, sigma), drawn directly from the sampled f and sigma
    eps = np.random.default_rng(np.asarray(jax.random.key_data(k_pp)).ravel()).standard_normal(f.shape)
    pp = {"y": f + sig * eps}
    coords = T.point_coords(xa, xt)
    dims = T.site_dims(arch, samples)
    dt = T.from_mcmc(mcmc, pp, dims, coords, log_likelihood=not collapse)
    if collapse:
        post = dt.posterior.to_dataset()
        extra = {k: v for k, v in samples.items() if k not in post and (xt is not None or not k.startswith("f_test"))}
        dt = T.with_extra_posterior(dt, extra, dims, coords)
        dt["log_likelihood"] = T.per_point(scipy.stats.norm.logpdf(ya, f, sig), coords)
        # log p(y_i | y_-i, hidden, sigma), readout integrated out: what `psis_loo` uses when present
        dt["log_likelihood_integrated"] = T.per_point(
            loo, coords, "log p(y_i | y_-i, hidden layer, sigma) with the Gaussian readout integrated out"
        )
    if "phi" in dt.posterior:
        dt["posterior"] = dt.posterior.to_dataset().drop_vars("phi")
    if xt is None and "f_test" in dt.posterior:
        dt["posterior"] = dt.posterior.to_dataset().drop_vars("f_test")
    for name, ds in T.inputs_groups(xa, ya, xt, coords).items():
        dt[name] = ds
    return dt


def diagnostics(dt, identified: list[str]) -> dict:
    """Convergence summary of a NUTS DataTree: max R-hat / min bulk ESS over the
    `identified` variables present, max R-hat over the rest, divergences, and a
    warning string (empty when R-hat <= 1.01 and there are no divergences)."""
    post = dt.posterior.to_dataset()
    ident = [v for v in identified if v in post]
    other = [v for v in post.data_vars if v not in ident and v not in ("phi",)]
    rh = azs.rhat(dt, var_names=ident)
    es = azs.ess(dt, var_names=ident)
    rhat_max = float(max(float(np.max(rh[v].values)) for v in ident))  # NaN propagates and is flagged
    ess_min = float(min(float(np.min(es[v].values)) for v in ident))
    other = [v for v in other if float(np.ptp(np.asarray(post[v]))) > 0]  # skip fixed (deterministic) sites
    rw = azs.rhat(dt, var_names=other) if other else {}
    rhat_w = float(max(float(np.max(rw[v].values)) for v in other)) if other else float("nan")
    div = int(np.asarray(dt.sample_stats["diverging"]).sum())
    msgs = []
    if div > 0:
        msgs.append(f"{div} divergent transitions")
    if not np.isfinite(rhat_max) or rhat_max > RHAT_MAX:
        msgs.append(f"R-hat {rhat_max:.4f} > {RHAT_MAX} on {'/'.join(ident)}")
    return {
        "rhat_max": rhat_max,
        "ess_bulk_min": ess_min,
        "rhat_max_weights": rhat_w,
        "divergences": div,
        "rhat_variables": ",".join(ident),
        "warnings": "; ".join(msgs),
    }


def predictive_moments(dt, noise: float | None = None) -> dict[str, np.ndarray]:
    """Mean and variance over the posterior of f at the test points, and the variance of a
    new y there (var f + E[sigma^2]). Rao-Blackwellised (the average of the conditional
    moments given the hidden layer) when the tree has them, from the draws of f otherwise."""
    post = dt.posterior
    m = post["f_test"].shape[-1]
    s2 = float(np.mean(np.asarray(post["sigma"]) ** 2)) if noise is None else noise**2
    if "f_test_cmean" in post:
        cm = np.asarray(post["f_test_cmean"]).reshape(-1, m)
        cv = np.asarray(post["f_test_cvar"]).reshape(-1, m)
        mean, var_f = cm.mean(0), cv.mean(0) + cm.var(0)
    else:
        ft = np.asarray(post["f_test"]).reshape(-1, m)
        mean, var_f = ft.mean(0), ft.var(0)
    return {"mean": mean, "var_f": var_f, "var_y": var_f + s2}
