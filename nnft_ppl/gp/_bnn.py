# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Finite-width Bayesian networks: the architecture's own prior with a Gaussian
likelihood, sampled by NUTS and returned as an ArviZ DataTree with convergence
diagnostics that are reported, never silenced."""

from __future__ import annotations

import warnings

import arviz_base as azb
import arviz_stats as azs
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Float
from numpyro.infer import MCMC, NUTS, init_to_sample

from .. import _validate as V
from .._errors import NNFTError
from ..architectures import Architecture
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
        numpyro.sample("y", dist.Normal(f, sigma), obs=y)


def _site_dims(arch: Architecture) -> dict[str, list[str]]:
    return {"f": ["obs_id"], "y": ["obs_id"], "f_test": ["test_id"], "phi": ["point_id"]}


def run_nuts(
    arch: Architecture,
    x,
    y,
    x_test=None,
    *,
    noise: float | None = None,
    noise_prior_scale: float = 1.0,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 4,
    seed: int = 0,
    chain_method: str = "vectorized",
    target_accept: float = 0.9,
    max_tree_depth: int = 8,
    progress: bool = False,
):
    """Sample the width-`arch.width` Bayesian network posterior with NUTS.

    Returns an ArviZ DataTree with posterior (including `f`, `f_test`, `sigma`),
    posterior_predictive (`y`), log_likelihood, sample_stats and observed_data. Its
    attrs record the diagnostics: `rhat_max` and `ess_bulk_min` over the identified
    quantities (f, f_test and a sampled sigma; the weights themselves are identified
    only up to the network's symmetries, their `rhat_max_weights` is informational),
    `divergences`, and `warnings` (empty when the run is clean).
    """
    xa, ya = check_xy(x, y)
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
    if xa.shape[1] != arch.d:
        raise NNFTError(f"x has input dimension {xa.shape[1]} but the architecture has d = {arch.d}")
    xt = None if x_test is None else V.points("x_test", x_test, arch.d)
    if noise is not None:
        noise = V.positive("noise", noise)
    V.positive("noise_prior_scale", noise_prior_scale)
    V.integer("num_warmup", num_warmup)
    V.integer("num_samples", num_samples)
    V.integer("num_chains", num_chains, minimum=2)
    if chain_method not in ("vectorized", "sequential", "parallel"):
        raise NNFTError(f"chain_method: must be 'vectorized', 'sequential' or 'parallel', got {chain_method!r}")
    if not 0.5 <= float(target_accept) < 1.0:
        raise NNFTError(f"target_accept: must be in [0.5, 1), got {target_accept!r}")

    xj, yj = jnp.asarray(xa), jnp.asarray(ya)
    xtj = None if xt is None else jnp.asarray(xt)
    kernel = NUTS(
        bnn_regression, target_accept_prob=target_accept, max_tree_depth=max_tree_depth, init_strategy=init_to_sample
    )
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=progress,
    )
    k_run, k_pp = jax.random.split(jax.random.key(seed))
    mcmc.run(k_run, arch, xj, yj, xtj, noise, noise_prior_scale, extra_fields=("diverging",))
    samples = mcmc.get_samples()
    samples.pop("phi", None)
    # posterior predictive y ~ Normal(f, sigma), drawn directly from the sampled f and sigma
    f = np.asarray(samples["f"])
    sig = np.asarray(samples["sigma"]).reshape(-1, 1) if noise is None else noise
    eps = np.random.default_rng(np.asarray(jax.random.key_data(k_pp)).ravel()).standard_normal(f.shape)
    pp = {"y": (f + sig * eps).reshape(num_chains, num_samples, -1)}
    dt = azb.from_numpyro(
        mcmc,
        posterior_predictive=pp,
        log_likelihood=True,
        dims=_site_dims(arch),
        coords={"obs_id": np.arange(xa.shape[0]), **({} if xt is None else {"test_id": np.arange(xt.shape[0])})},
    )
    if "phi" in dt.posterior:
        dt["posterior"] = dt.posterior.to_dataset().drop_vars("phi")
    diag = diagnostics(dt, identified=["f", "f_test"] + (["sigma"] if noise is None else []))
    dt.attrs.update(
        {
            "architecture": arch.name,
            "width": int(getattr(arch, "width", 0)),
            "noise_fixed": float(noise) if noise is not None else "sampled",
            "num_chains": int(num_chains),
            "num_samples": int(num_samples),
            "num_warmup": int(num_warmup),
            "seed": int(seed),
            **diag,
        }
    )
    if diag["warnings"]:
        warnings.warn(f"NUTS for {arch.name}(width={dt.attrs['width']}): {diag['warnings']}", BNNWarning, stacklevel=2)
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
    """Mean and variance over the posterior of f at the test points, and the variance
    of a new y there (var f + E[sigma^2])."""
    ft = np.asarray(dt.posterior["f_test"]).reshape(-1, dt.posterior["f_test"].shape[-1])
    s2 = float(np.mean(np.asarray(dt.posterior["sigma"]) ** 2)) if noise is None else noise**2
    var_f = ft.var(0)
    return {"mean": ft.mean(0), "var_f": var_f, "var_y": var_f + s2}
