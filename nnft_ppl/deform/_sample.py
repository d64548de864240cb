"""NUTS / HMC sampling of a deformed ensemble (no ArviZ here: usable on machines without it)."""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec
from jaxtyping import Array, Float, PRNGKeyArray
from numpyro.infer import init_to_sample
from numpyro.infer.hmc import hmc
from numpyro.infer.util import initialize_model

from .. import _validate as V
from .._cache import long_run_compiler_options
from .._errors import NNFTError
from .._keys import as_dtype, rng_key_arg
from ..ensemble._mesh import AXIS, mesh_for, resolve_devices
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


def choose_chain_method(num_chains: int, devices=None) -> str:
    """sequential for one chain; parallel (vectorized chains on each device of a mesh) when there
    are several devices and the chains split evenly over them; vectorized otherwise."""
    if num_chains == 1:
        return "sequential"
    ndev = len(resolve_devices(devices))
    if ndev > 1 and num_chains % ndev == 0:
        return "parallel"
    return "vectorized"


class NUTSConfig(NamedTuple):
    """The sampler's settings as one immutable value (as blackjax and optax configure): pass one as
    `config=` to `sample_deformed`/`sample_scan`, or any field as a keyword (keywords override the
    config's fields; `progress=` is the former name of `progress_bar`).

    `kernel`: "nuts" or "hmc"; `chain_method`: "auto" (see `choose_chain_method`), "sequential",
    "vectorized" or "parallel"; `dtype`: float64 or float32 (float32 also runs the sampler's own state
    in 32 bits, with matmul precision "highest"); `progress_bar`: one line per finished run;
    `devices` (None: every device; an int: the first k): "parallel" splits the chains over them
    (each chain's key does not depend on the device count, so 1 and k devices draw the same chains)."""

    num_warmup: int = 500
    num_samples: int = 500
    num_chains: int = 4
    target_accept_prob: float = 0.8
    max_tree_depth: int = 8
    kernel: str = "nuts"
    chain_method: str = "auto"
    dtype: Any = jnp.float64
    progress_bar: bool = False
    devices: Any = None

    def checked(self) -> NUTSConfig:
        """This config validated (`NNFTError` naming the field), with "auto" resolved to a chain method."""
        num_chains = V.integer("num_chains", self.num_chains)
        tap = self.target_accept_prob
        if isinstance(tap, bool) or not isinstance(tap, (int, float, np.floating)) or not 0.0 < tap < 1.0:
            raise NNFTError(f"target_accept_prob must be a number in (0, 1), got {tap!r}")
        if self.kernel not in ("nuts", "hmc"):
            raise NNFTError(f"kernel must be 'nuts' or 'hmc', got {self.kernel!r}")
        resolve_devices(self.devices)
        method = choose_chain_method(num_chains, self.devices) if self.chain_method == "auto" else self.chain_method
        if method not in ("sequential", "vectorized", "parallel"):
            raise NNFTError(f"chain_method must be auto, sequential, vectorized or parallel, got {self.chain_method!r}")
        as_dtype(self.dtype)
        return self._replace(
            num_warmup=V.integer("num_warmup", self.num_warmup),
            num_samples=V.integer("num_samples", self.num_samples),
            num_chains=num_chains,
            max_tree_depth=V.integer("max_tree_depth", self.max_tree_depth),
            chain_method=method,
            progress_bar=bool(self.progress_bar),
        )


def nuts_config(config: NUTSConfig | None = None, **kwargs) -> NUTSConfig:
    """`config` (default `NUTSConfig()`) with the keyword fields replaced, validated; unknown names refused."""
    cfg = NUTSConfig() if config is None else config
    if not isinstance(cfg, NUTSConfig):
        raise NNFTError(f"config: expected a NUTSConfig, got {type(cfg).__name__}")
    if "progress" in kwargs:  # the former name
        kwargs["progress_bar"] = kwargs.pop("progress")
    unknown = sorted(set(kwargs) - set(NUTSConfig._fields))
    if unknown:
        raise NNFTError(f"unknown sampler argument(s) {unknown}; the settings are {list(NUTSConfig._fields)}")
    return cfg._replace(**kwargs).checked()


def sample_deformed(
    model: Deformed,
    x: Points,
    rng_key: int | PRNGKeyArray | None = None,
    config: NUTSConfig | None = None,
    **kwargs,
) -> DeformedRun:
    """Sample the deformed ensemble with NumPyro NUTS (or HMC), `num_chains` chains initialised
    from prior draws; returns draws, sampler statistics and timing (compilation included).

    `rng_key`: an int seed or a JAX key (`key=` is its deprecated former name). Settings: a
    `NUTSConfig` and/or its fields as keywords (num_warmup=500, num_samples=500, num_chains=4,
    target_accept_prob=0.8, max_tree_depth=8, kernel="nuts", chain_method="auto", dtype=float64,
    progress_bar=False)."""
    rng_key = rng_key_arg(rng_key, kwargs, "sample_deformed")
    return sample_scan(model, x, rng_key, [model.potential], config, **kwargs)[0]


def sample_scan(
    model: Deformed,
    x: Points,
    rng_key: int | PRNGKeyArray | None = None,
    potentials: list[Potential] | None = None,
    config: NUTSConfig | None = None,
    **kwargs,
) -> list[DeformedRun]:
    """One run per potential (e.g. a scan over lam), compiled once: the potential is a traced model
    argument. Every potential is checked for boundedness like the model's own. `rng_key` and the
    settings as `sample_deformed`; `progress_bar` prints one line per finished run."""
    key = rng_key_arg(rng_key, kwargs, "sample_scan")
    if potentials is None:
        raise NNFTError("potentials: sample_scan needs a list of potentials")
    x = model.arch.check_points(x)
    cfg = nuts_config(config, **kwargs)
    _check_potentials(model, potentials)
    # float32 runs the whole sampler with 64-bit types off (NumPyro's adaptation state would otherwise
    # be float64 next to float32 parameters); float64 needs them on. Matmuls traced here use full
    # precision (accelerators may otherwise drop float32 products to TF32/bf16 passes).
    with jax.enable_x64(jnp.dtype(cfg.dtype) == jnp.float64), jax.default_matmul_precision("highest"):

        def fn(xx, pot):
            return model(xx, cfg.dtype, pot)

        xj = jnp.asarray(x, cfg.dtype)
        casts = [jax.tree_util.tree_map(lambda v: jnp.asarray(v, cfg.dtype), pot) for pot in potentials]
        keys = jax.random.split(key, len(potentials) + 1)
        init = initialize_model(
            jax.random.split(keys[0], cfg.num_chains),
            fn,
            init_strategy=init_to_sample,
            dynamic_args=True,
            model_args=(xj, casts[0]),
        )
        run = _compiled_runner(fn, init.potential_fn, init.postprocess_fn, cfg)
        runs = []
        for pot, pot_j, kk in zip(potentials, casts, keys[1:], strict=True):
            t0 = time.perf_counter()
            out = jax.block_until_ready(run(init.param_info.z, jax.random.split(kk, cfg.num_chains), xj, pot_j))
            elapsed = time.perf_counter() - t0
            if cfg.progress_bar:
                print(f"nnft deform: {pot.describe()}: {cfg.num_chains} chains in {elapsed:.1f} s", flush=True)
            samples, stats = ({n: np.asarray(v) for n, v in d.items()} for d in out)
            meta = _run_meta(model, pot, cfg, elapsed, len(potentials))
            runs.append(DeformedRun(samples, stats, x, elapsed, meta))
        return runs


def _check_potentials(model: Deformed, potentials) -> None:
    if not potentials:
        raise NNFTError("potentials must be a non-empty list")
    for pot in potentials:
        if not isinstance(pot, Potential):
            raise NNFTError(f"potentials must be Potential objects, got {type(pot).__name__}")
        pot.check_bounded(model.allow_unbounded)


def _run_meta(model: Deformed, pot: Potential, cfg: NUTSConfig, elapsed: float, n_runs: int) -> dict:
    """What a run records: the model's metadata, the potential, the sampler's settings and the timing."""
    meta = dict(model.metadata())
    meta.update(
        potential=pot.describe(),
        potential_polynomial=pot.polynomial(),
        kernel=cfg.kernel,
        chain_method=cfg.chain_method,
        num_chains=cfg.num_chains,
        num_warmup=cfg.num_warmup,
        num_samples=cfg.num_samples,
        dtype=str(jnp.dtype(cfg.dtype)),
        elapsed_s=elapsed,
        compiled_once_for=n_runs,
        max_tree_depth=cfg.max_tree_depth,
        quadrature_nodes=np.asarray(model.quad.points),
        quadrature_weights=np.asarray(model.quad.weights),
        backend=jax.default_backend(),
    )
    return meta


def _compiled_runner(fn, potential_gen, postprocess_gen, cfg: NUTSConfig):
    """A jitted (init_z, keys, x, potential) -> (samples, stats) for all chains: pure init/step functions
    of NumPyro's functional HMC/NUTS, warm-up and sampling in one `lax.scan`, compiled once (see
    `nnft_ppl._cache.LONG_RUN_STEPS` for the optimisation level)."""
    kernel, num_warmup, num_samples, num_chains = cfg.kernel, cfg.num_warmup, cfg.num_samples, cfg.num_chains
    chain_method, target_accept_prob, max_tree_depth = cfg.chain_method, cfg.target_accept_prob, cfg.max_tree_depth
    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_gen, algo="NUTS" if kernel == "nuts" else "HMC")
    extra = {"max_tree_depth": max_tree_depth} if kernel == "nuts" else {}

    def one_chain(z0, key, xx, pot):
        args = (xx, pot)
        st = init_kernel(z0, num_warmup, target_accept_prob=target_accept_prob, model_args=args, rng_key=key, **extra)

        def record(st):
            return st.z, {
                "diverging": st.diverging,
                "accept_prob": st.accept_prob,
                "num_steps": st.num_steps,
                "potential_energy": st.potential_energy,
                "energy": st.energy,
                "step_size": st.adapt_state.step_size,
            }

        def step(carry, i):
            st, buf = carry
            st = sample_kernel(st, model_args=args)
            at = jnp.maximum(i - num_warmup, 0)  # warm-up draws land in slot 0 and are overwritten
            buf = jax.tree.map(lambda b, v: jax.lax.dynamic_update_index_in_dim(b, v, at, 0), buf, record(st))
            return (st, buf), None

        # warm-up and sampling in one scan (the kernel adapts while its step count is below num_warmup):
        # the NUTS step is traced and compiled once, not twice
        buf = jax.tree.map(lambda v: jnp.zeros((num_samples, *jnp.shape(v)), jnp.result_type(v)), record(st))
        (_, (zs, stats)), _ = jax.lax.scan(step, (st, buf), jnp.arange(num_warmup + num_samples))
        post = jax.vmap(postprocess_gen(*args))(zs)
        return post, stats

    def all_chains(z0, keys, xx, pot):
        if chain_method == "vectorized":
            return jax.vmap(one_chain, in_axes=(0, 0, None, None))(z0, keys, xx, pot)
        if chain_method == "sequential":
            return jax.lax.map(lambda zk: one_chain(zk[0], zk[1], xx, pot), (z0, keys))
        mesh = mesh_for(cfg.devices)
        if num_chains % mesh.devices.size:
            ndev = mesh.devices.size
            raise NNFTError(f"num_chains = {num_chains} must be a multiple of the {ndev} devices for parallel")
        rows, rep = PartitionSpec(AXIS), PartitionSpec()
        chains = jax.vmap(one_chain, in_axes=(0, 0, None, None))
        return jax.shard_map(chains, mesh=mesh, in_specs=(rows, rows, rep, rep), out_specs=rows, check_vma=False)(
            z0, keys, xx, pot
        )

    return jax.jit(all_chains, compiler_options=long_run_compiler_options(cfg.num_warmup + cfg.num_samples))
