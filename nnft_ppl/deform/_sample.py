"""NUTS / HMC sampling of a deformed ensemble (no ArviZ here: usable on machines without it)."""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray
from numpyro.infer import HMC, MCMC, NUTS, init_to_sample

from .. import _validate as V
from .._errors import NNFTError
from ._model import Deformed

Points = Float[Array, "P d"]

EXTRA_FIELDS = ("diverging", "accept_prob", "num_steps", "potential_energy", "energy", "adapt_state.step_size")


class DeformedRun(NamedTuple):
    """Draws grouped by chain: `samples[site]` is (chains, draws, ...) and includes `phi`
    (the field at `x`) and `S_int_value`; `sample_stats` likewise; `elapsed_s` is wall time
    including compilation."""

    samples: dict
    sample_stats: dict
    x: np.ndarray
    elapsed_s: float
    meta: dict


def choose_chain_method(num_chains: int) -> str:
    """vectorized on an accelerator or for many chains; parallel when there is a CPU device per
    chain; sequential for one chain."""
    if num_chains == 1:
        return "sequential"
    if jax.default_backend() != "cpu":
        return "vectorized"
    if jax.local_device_count() >= num_chains:
        return "parallel"
    return "vectorized"


def sample_deformed(
    model: Deformed,
    x: Points,
    key: PRNGKeyArray,
    *,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 4,
    kernel: str = "nuts",
    chain_method: str = "auto",
    dtype=jnp.float64,
    target_accept_prob: float = 0.8,
    max_tree_depth: int = 8,
    progress: bool = False,
) -> DeformedRun:
    """Sample the deformed ensemble with NumPyro NUTS (or HMC), `num_chains` chains initialised
    from prior draws; returns draws, sampler statistics and timing."""
    x = model.arch.check_points(x)
    num_warmup = V.integer("num_warmup", num_warmup)
    num_samples = V.integer("num_samples", num_samples)
    num_chains = V.integer("num_chains", num_chains)
    if kernel not in ("nuts", "hmc"):
        raise NNFTError(f"kernel must be 'nuts' or 'hmc', got {kernel!r}")
    if chain_method == "auto":
        chain_method = choose_chain_method(num_chains)
    if chain_method not in ("sequential", "vectorized", "parallel"):
        raise NNFTError(f"chain_method must be auto, sequential, vectorized or parallel, got {chain_method!r}")
    if kernel == "nuts":
        k = NUTS(
            model, target_accept_prob=target_accept_prob, max_tree_depth=max_tree_depth, init_strategy=init_to_sample
        )
    else:
        k = HMC(model, target_accept_prob=target_accept_prob, init_strategy=init_to_sample)
    mcmc = MCMC(
        k,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=progress,
    )
    xj = jnp.asarray(x, dtype)
    t0 = time.perf_counter()
    mcmc.run(key, xj, dtype, extra_fields=EXTRA_FIELDS)
    samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
    elapsed = time.perf_counter() - t0
    extra = mcmc.get_extra_fields(group_by_chain=True)
    stats = {k.replace("adapt_state.", ""): np.asarray(v) for k, v in extra.items()}
    samples = {k: np.asarray(v) for k, v in samples.items()}
    meta = dict(model.metadata())
    meta.update(
        kernel=kernel,
        chain_method=chain_method,
        num_chains=num_chains,
        num_warmup=num_warmup,
        num_samples=num_samples,
        dtype=str(jnp.dtype(dtype)),
        elapsed_s=elapsed,
        backend=jax.default_backend(),
    )
    return DeformedRun(samples, stats, x, elapsed, meta)
