"""NUTS / HMC sampling of a deformed ensemble (no ArviZ here: usable on machines without it)."""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray
from numpyro.infer import init_to_sample
from numpyro.infer.hmc import hmc
from numpyro.infer.util import initialize_model

from .. import _validate as V
from .._errors import NNFTError
from ._model import Deformed
from ._potentials import Potential

Points = Float[Array, "P d"]


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
    **kwargs,
) -> DeformedRun:
    """Sample the deformed ensemble with NumPyro NUTS (or HMC), `num_chains` chains initialised
    from prior draws; returns draws, sampler statistics and timing (compilation included).

    Keywords: num_warmup=500, num_samples=500, num_chains=4, kernel="nuts" | "hmc",
    chain_method="auto" (see `choose_chain_method`), dtype=float64 | float32 (float32 also runs the
    sampler's own state in 32 bits, with matmul precision "highest"), target_accept_prob=0.8,
    max_tree_depth=8, progress=False."""
    return sample_scan(model, x, key, [model.potential], **kwargs)[0]


def sample_scan(
    model: Deformed,
    x: Points,
    key: PRNGKeyArray,
    potentials: list[Potential],
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
) -> list[DeformedRun]:
    """One run per potential (e.g. a scan over lam), compiled once: the potential is a traced model
    argument. Every potential is checked for boundedness like the model's own. `progress` prints one
    line per finished run."""
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
    if not potentials:
        raise NNFTError("potentials must be a non-empty list")
    for pot in potentials:
        if not isinstance(pot, Potential):
            raise NNFTError(f"potentials must be Potential objects, got {type(pot).__name__}")
        pot.check_bounded(model.allow_unbounded)

    # float32 runs the whole sampler with 64-bit types off (NumPyro's adaptation state would otherwise
    # be float64 next to float32 parameters); float64 needs them on. Matmuls traced here use full
    # precision (accelerators may otherwise drop float32 products to TF32/bf16 passes).
    try:
        ok = jnp.dtype(dtype) in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64))
    except TypeError:
        ok = False
    if not ok:
        raise NNFTError(f"dtype must be float32 or float64, got {dtype!r}")
    with jax.enable_x64(jnp.dtype(dtype) == jnp.float64), jax.default_matmul_precision("highest"):

        def fn(xx, pot):
            return model(xx, dtype, pot)

        xj = jnp.asarray(x, dtype)
        casts = [jax.tree_util.tree_map(lambda v: jnp.asarray(v, dtype), pot) for pot in potentials]
        keys = jax.random.split(key, len(potentials) + 1)
        init = initialize_model(
            jax.random.split(keys[0], num_chains),
            fn,
            init_strategy=init_to_sample,
            dynamic_args=True,
            model_args=(xj, casts[0]),
        )
        run = _compiled_runner(
            fn,
            init.potential_fn,
            init.postprocess_fn,
            kernel,
            num_warmup,
            num_samples,
            num_chains,
            chain_method,
            target_accept_prob,
            max_tree_depth,
        )
        runs = []
        for pot, pot_j, kk in zip(potentials, casts, keys[1:], strict=True):
            t0 = time.perf_counter()
            samples, stats = jax.block_until_ready(run(init.param_info.z, jax.random.split(kk, num_chains), xj, pot_j))
            elapsed = time.perf_counter() - t0
            if progress:
                print(f"nnft deform: {pot.describe()}: {num_chains} chains in {elapsed:.1f} s", flush=True)
            stats = {n: np.asarray(v) for n, v in stats.items()}
            samples = {n: np.asarray(v) for n, v in samples.items()}
            meta = dict(model.metadata())
            meta.update(
                potential=pot.describe(),
                potential_polynomial=pot.polynomial(),
                kernel=kernel,
                chain_method=chain_method,
                num_chains=num_chains,
                num_warmup=num_warmup,
                num_samples=num_samples,
                dtype=str(jnp.dtype(dtype)),
                elapsed_s=elapsed,
                compiled_once_for=len(potentials),
                max_tree_depth=max_tree_depth,
                quadrature_nodes=np.asarray(model.quad.points),
                quadrature_weights=np.asarray(model.quad.weights),
                backend=jax.default_backend(),
            )
            runs.append(DeformedRun(samples, stats, x, elapsed, meta))
        return runs


def _compiled_runner(
    fn,
    potential_gen,
    postprocess_gen,
    kernel,
    num_warmup,
    num_samples,
    num_chains,
    chain_method,
    target_accept_prob,
    max_tree_depth,
):
    """A jitted (init_z, keys, x, potential) -> (samples, stats) for all chains: pure init/step functions
    of NumPyro's functional HMC/NUTS, warm-up and sampling as `lax.scan`s, compiled once."""
    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_gen, algo="NUTS" if kernel == "nuts" else "HMC")
    extra = {"max_tree_depth": max_tree_depth} if kernel == "nuts" else {}

    def one_chain(z0, key, xx, pot):
        args = (xx, pot)
        st = init_kernel(z0, num_warmup, target_accept_prob=target_accept_prob, model_args=args, rng_key=key, **extra)

        def warm(st, _):
            return sample_kernel(st, model_args=args), None

        def draw(st, _):
            st = sample_kernel(st, model_args=args)
            stats = {
                "diverging": st.diverging,
                "accept_prob": st.accept_prob,
                "num_steps": st.num_steps,
                "potential_energy": st.potential_energy,
                "energy": st.energy,
                "step_size": st.adapt_state.step_size,
            }
            return st, (st.z, stats)

        st, _ = jax.lax.scan(warm, st, None, length=num_warmup)
        _, (zs, stats) = jax.lax.scan(draw, st, None, length=num_samples)
        post = jax.vmap(postprocess_gen(*args))(zs)
        return post, stats

    def all_chains(z0, keys, xx, pot):
        if chain_method == "vectorized":
            return jax.vmap(one_chain, in_axes=(0, 0, None, None))(z0, keys, xx, pot)
        if chain_method == "sequential":
            return jax.lax.map(lambda zk: one_chain(zk[0], zk[1], xx, pot), (z0, keys))
        ndev = jax.local_device_count()
        per = -(-num_chains // ndev)
        if per * ndev != num_chains:
            raise NNFTError(f"num_chains = {num_chains} must be a multiple of the {ndev} devices for parallel")
        split = jax.tree_util.tree_map(lambda a: a.reshape((ndev, per) + a.shape[1:]), (z0, keys))
        out = jax.pmap(jax.vmap(one_chain, in_axes=(0, 0, None, None)), in_axes=(0, 0, None, None))(*split, xx, pot)
        return jax.tree_util.tree_map(lambda a: a.reshape((num_chains,) + a.shape[2:]), out)

    return jax.jit(all_chains) if chain_method != "parallel" else all_chains
