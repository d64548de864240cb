"""Streaming accumulation of monomial sums over an ensemble, in jit-compiled chunks.

Sample s is drawn from `fold_in(key, s)`, so the samples (and each block's members) depend
on the key, n and the block count alone, never on the chunk size. What is promised: the same
key, n, blocks and chunk give bitwise identical results; another chunk size draws the very
same samples into the same blocks and sums them in another association, so results agree to
float64 rounding (relative ~1e-13); the k-hat tails (a set of largest values) are identical.
Chunks come in half-octave buckets (2^k or 3 * 2^(k-1); the end of a block is masked), so runs
whose sizes differ by up to a factor 1.5 reuse one compiled step.
Samples are grouped into `n_blocks` contiguous blocks whose sums are kept separately
(float64) for jackknife errors; finished blocks can be checkpointed (`_checkpoint`) so an
interrupted run resumes without losing work.

Devices (`_mesh`): with D devices each step draws D consecutive chunks of a block, one per
device, and sums them across devices (`psum`, across hosts too in a multi-process run); since
sample s is still drawn from `fold_in(key, s)`, 1 and D devices draw the same samples and agree
to float64 rounding.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from .. import _tails
from .._errors import NNFTError
from .._keys import as_key  # noqa: F401  (re-exported: the one key normaliser)
from ._basis import MonomialBasis
from ._checkpoint import CheckpointStore, next_auto_checkpoint, value_identity
from ._mesh import AXIS, is_writer, mesh_for, replicated


class MomentSums(NamedTuple):
    """Per-block sums of every monomial in `basis` (float64) and per-block sample counts.

    `tails` keeps the largest |y| of each summand series (the P points, then their sum), and
    `khat` maps each order r to the largest Pareto k-hat of the summands |y|^r over those series
    (`nnft_ppl._tails`: k <= 0.5 value and error bar reliable; 0.5 < k <= 0.7 error bar
    unreliable; k > 0.7 the value itself unreliable).
    """

    basis: MonomialBasis
    block_sums: np.ndarray  # (B, K)
    block_counts: np.ndarray  # (B,)
    tails: np.ndarray | None = None  # (P + 1, M + 1)
    khat: dict[int, float] | None = None
    #: the sums are of conditional moments given the hidden layer (hafnians of phi's conditional
    #: covariance, `collapse=True`), not of monomials of sampled phi: cumulants are then plug-in
    conditional: bool = False

    @property
    def n(self) -> int:
        return int(self.block_counts.sum())


def key_fingerprint(key) -> list[int]:
    return [int(v) for v in np.asarray(jax.random.key_data(key)).ravel()]


def stream_moment_sums(
    sample_fn: Callable[[jax.Array], jax.Array],
    n: int,
    key,
    basis: MonomialBasis,
    *,
    n_blocks: int = 64,
    chunk: int = 1024,
    progress: bool = True,
    desc: str = "ensemble",
    checkpoint: str | os.PathLike | None = None,
    fingerprint: dict | None = None,
    cache_key=None,
    devices=None,
    conditional: bool = False,
) -> MomentSums:
    """Sum every monomial of `sample_fn(keys) -> (M, P)` over n samples in blocks.

    `cache_key` (hashable, identifying `sample_fn`) lets repeated runs reuse the compiled step;
    `devices` (None: all; an int: the first k; or a list) the devices the chunks are split over.
    `conditional`: `sample_fn(keys)` returns each sample's covariance (M, P, P) of a zero-mean Gaussian
    phi, the sums are of phi's conditional moments (`MonomialBasis.hafnians`), the tail series its
    conditional standard deviations (|y|^r scales as the order-r diagonal summands)."""
    key = as_key(key)
    mesh = mesh_for(devices)
    n_dev = mesh.devices.size
    n_blocks = min(n_blocks, n)
    edges = [b * n // n_blocks for b in range(n_blocks + 1)]
    counts = np.diff(edges).astype(np.int64)
    keep = _tails.keep_size(n)
    n_series = basis.n_points + 1
    if checkpoint is None and (checkpoint := next_auto_checkpoint()) is not None:
        # a recipe stage (`auto_checkpoints`): the sampler is identified by its cache key
        fingerprint = {**(fingerprint or {}), "sampler": _sampler_identity(desc, cache_key)}
    if checkpoint is not None:
        comps = {"n": n, "n_blocks": n_blocks, "tuples": [list(t) for t in basis.index], "key": key_fingerprint(key)}
        store = CheckpointStore(checkpoint, {**(fingerprint or {}), **_ck_fingerprint(comps)}, write=is_writer())
        sums, done, block_tails = store.load(n_blocks, basis.size, (n_series, keep))  # before any block runs
    else:
        store, sums, done, block_tails = None, np.zeros((n_blocks, basis.size)), np.zeros(n_blocks, bool), {}
    tails = None
    for t in block_tails.values():
        tails = _tails.merge_top(tails, t, keep)
    chunk = step_chunk(chunk, n, n_blocks, n_dev)
    step = _compiled_step(sample_fn, basis, chunk, cache_key, mesh, conditional)
    impl = str(jax.random.key_impl(key))
    kd = replicated(mesh, np.asarray(jax.random.key_data(key)))

    bar = tqdm(
        total=n,
        desc=desc,
        unit="sample",
        disable=not progress or not is_writer(),
        initial=int(counts[done].sum()),
        leave=False,
        mininterval=2.0,
    )
    span = chunk * n_dev
    for b in range(n_blocks):
        if done[b]:
            continue
        acc, kept, pending = None, np.full((n_series, keep), -1.0), None  # -1 sorts below every |y|
        for start in range(edges[b], edges[b + 1], span):
            part, series = step(kd, np.uint32(start), np.uint32(edges[b + 1]), impl=impl)
            if pending is not None:  # the previous step's |y|, read while this step runs
                kept = _merge_series(kept, pending, keep)
            acc, pending = (part if acc is None else jax.tree.map(jnp.add, acc, part)), series
            bar.update(min(span, edges[b + 1] - start))
        kept = _merge_series(kept, pending, keep)  # this block's own largest |y|: blocks merge exactly
        sums[b] = np.concatenate(acc) if conditional else basis.flatten(jax.tree.map(np.asarray, acc))
        if not np.all(np.isfinite(sums[b])):
            raise NNFTError(f"{desc}: non-finite field values in block {b}; check the parameter scales")
        tails = _tails.merge_top(tails, kept, keep)
        done[b] = True
        if store is not None:
            store.save_block(b, sums[b], kept)
    bar.close()
    khat = {r: _tails.max_khat(tails, n, r) for r in range(1, basis.max_order + 1)}
    return MomentSums(basis, sums, counts, tails, khat, conditional)


def step_chunk(chunk: int, n: int, n_blocks: int, n_dev: int) -> int:
    """Samples per device and step: at most `chunk`, never spanning blocks, every device one per step where
    a block allows; rounded up to its half-octave bucket (the rest of the last step is masked) so that runs
    of nearby sizes reuse the compiled step, for at most 50% more draws (20% on average) where a block is
    below the chunk."""
    return max(1, min(chunk, bucket_size(-(-n // (n_blocks * n_dev)))))


def bucket_size(m: int) -> int:
    """The smallest 2^k or 3 * 2^(k-1) at or above m >= 1 (two significant bits): chunk sizes, and with
    them compiled programs, come in half-octave buckets."""
    shift = max(0, int(m).bit_length() - 2)
    return -(-int(m) // (1 << shift)) << shift


def _sampler_identity(desc: str, cache_key) -> str:
    """A digest of the sampler's cache key, stable across processes (modules field by field)."""
    parts = [desc]
    for part in cache_key if isinstance(cache_key, tuple) else (cache_key,):
        try:
            parts.append(value_identity(part) if not isinstance(part, bytes) else hashlib.sha256(part).hexdigest())
        except NNFTError:
            parts.append(repr(part))  # not stable across processes: a resumed stage is then refused
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def _ck_fingerprint(comps: dict) -> dict[str, str]:
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:24] for k, v in comps.items()}


_STEPS: dict = {}


def _merge_series(kept: np.ndarray, series, keep: int) -> np.ndarray:
    """The `keep` largest per series of `kept` (S, keep) and a step's |y| (D, S, chunk), on the host
    (np.partition is linear; a device top_k is a sort, far slower on CPU)."""
    new = np.asarray(series)
    new = np.moveaxis(new, 0, 1).reshape(new.shape[1], -1)
    return _tails.merge_top(kept, new, keep)


def _compiled_step(sample_fn, basis: MonomialBasis, chunk: int, cache_key, mesh, conditional: bool = False):
    """`step(key_data, start, block_end)` draws samples start + d * chunk + i (i < chunk, below
    block_end) on device d and returns their monomial sums reduced over the devices, and every
    device's |y| per series (the P points, then their sum; padding -1), gathered: (D, P + 1, chunk).
    `conditional`: the samples are covariances and the sums their hafnians (see `stream_moment_sums`)."""
    ck = None if cache_key is None else (cache_key, basis.n_points, tuple(basis.index), chunk, mesh, conditional)
    if ck is not None and ck in _STEPS:
        return _STEPS[ck]
    spec = jax.sharding.PartitionSpec()

    def local(kd, start, end, impl):
        key = jax.random.wrap_key_data(kd, impl=impl)
        first = start + jax.lax.axis_index(AXIS).astype(jnp.uint32) * jnp.uint32(chunk)
        idx = first + jnp.arange(chunk, dtype=jnp.uint32)
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(idx)
        y = sample_fn(keys).astype(jnp.float64)
        mask = (idx < end).astype(jnp.float64)
        if conditional:  # y: covariances (M, P, P); series: the conditional standard deviations
            var = jnp.concatenate([jnp.diagonal(y, axis1=1, axis2=2), jnp.sum(y, axis=(1, 2))[:, None]], axis=1)
            series, sums = jnp.sqrt(jnp.maximum(var, 0.0)), tuple(mask @ lev for lev in basis.hafnians(y))
        else:
            series = jnp.abs(jnp.concatenate([y, jnp.sum(y, axis=1, keepdims=True)], axis=1))
            sums = basis.weighted_sums(y, mask)
        series = jnp.where(mask[:, None] > 0, series, -1.0)  # padding sorts below every |y|
        sums = jax.lax.psum(sums, AXIS)
        return sums, jax.lax.all_gather(series.T, AXIS, tiled=False)

    def step(kd, start, end, impl):
        f = jax.shard_map(
            lambda *a: local(*a, impl),
            mesh=mesh,
            in_specs=(spec, spec, spec),
            out_specs=(spec, spec),
            check_vma=False,
        )
        return f(kd, start, end)

    out = jax.jit(step, static_argnames="impl")
    if ck is not None:
        if len(_STEPS) > 64:
            _STEPS.clear()
        _STEPS[ck] = out
    return out
