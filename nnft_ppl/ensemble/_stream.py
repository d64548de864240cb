"""Streaming accumulation of monomial sums over an ensemble, in jit-compiled chunks.

Sample s is drawn from `fold_in(key, s)`, so results depend on the key alone, never
on the chunk size. Samples are grouped into `n_blocks` contiguous blocks whose sums
are kept separately (float64) for jackknife errors; finished blocks can be written to
a checkpoint file so an interrupted run resumes without losing work.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from .. import _tails
from .._errors import NNFTError
from .._keys import as_key  # noqa: F401  (re-exported: the one key normaliser)
from ._basis import MonomialBasis


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
) -> MomentSums:
    """Sum every monomial of `sample_fn(keys) -> (M, P)` over n samples in blocks.

    `cache_key` (hashable, identifying `sample_fn`) lets repeated runs reuse the compiled step.
    """
    key = as_key(key)
    n_blocks = min(n_blocks, n)
    edges = [b * n // n_blocks for b in range(n_blocks + 1)]
    sums = np.zeros((n_blocks, basis.size))
    counts = np.diff(edges).astype(np.int64)
    done = np.zeros(n_blocks, bool)
    keep = _tails.keep_size(n)
    tails = None
    ck_path, tag = None, None
    if checkpoint is not None:
        ck_path = Path(checkpoint)
        tag = hashlib.sha256(
            json.dumps(
                {**(fingerprint or {}), "n": n, "B": n_blocks, "K": basis.size, "key": key_fingerprint(key)},
                sort_keys=True,
                default=str,
            ).encode()
        ).hexdigest()
        if ck_path.exists():
            with np.load(ck_path) as z:
                if str(z["tag"]) != tag:
                    raise NNFTError(
                        f"checkpoint: {ck_path} was written by a different run; remove it or pick another path"
                    )
                sums, done = z["sums"].copy(), z["done"].copy()
                tails = z["tails"].copy() if "tails" in z.files else None

    chunk = min(chunk, -(-n // n_blocks))  # a chunk never spans blocks: no larger than one block
    step = _compiled_step(sample_fn, basis, chunk, cache_key, keep)
    kept = np.full((basis.n_points + 1, keep), -1.0)  # -1 sorts below every |y|
    if tails is not None:
        kept[:, : tails.shape[1]] = tails

    bar = tqdm(
        total=n,
        desc=desc,
        unit="sample",
        disable=not progress,
        initial=int(counts[done].sum()),
        leave=False,
        mininterval=2.0,
    )
    for b in range(n_blocks):
        if done[b]:
            continue
        acc = None
        for start in range(edges[b], edges[b + 1], chunk):
            count = min(chunk, edges[b + 1] - start)
            part, kept = step(key, jnp.uint32(start), count, kept)
            acc = part if acc is None else jax.tree.map(jnp.add, acc, part)
            bar.update(count)
        sums[b] = basis.flatten(acc)
        tails = np.asarray(kept)
        if not np.all(np.isfinite(sums[b])):
            raise NNFTError(f"{desc}: non-finite field values in block {b}; check the parameter scales")
        done[b] = True
        if ck_path is not None:
            tmp = ck_path.with_suffix(".tmp.npz")
            np.savez(tmp, sums=sums, done=done, tag=tag, tails=tails)
            os.replace(tmp, ck_path)
    bar.close()
    tails = np.asarray(kept)
    khat = {r: _tails.max_khat(tails, n, r) for r in range(1, basis.max_order + 1)}
    return MomentSums(basis, sums, counts, tails, khat)


_STEPS: dict = {}


def _compiled_step(sample_fn, basis: MonomialBasis, chunk: int, cache_key, keep: int):
    ck = None if cache_key is None else (cache_key, basis.n_points, tuple(basis.index), chunk, keep)
    if ck is not None and ck in _STEPS:
        return _STEPS[ck]

    @jax.jit
    def step(key, start, count, kept):
        idx = start + jnp.arange(chunk, dtype=jnp.uint32)
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(idx)
        phi = sample_fn(keys).astype(jnp.float64)
        mask = (jnp.arange(chunk) < count).astype(jnp.float64)
        series = jnp.abs(jnp.concatenate([phi, jnp.sum(phi, axis=1, keepdims=True)], axis=1))
        series = jnp.where(mask[:, None] > 0, series, -1.0)  # padding sorts below every |y|
        # the `keep` largest |y| per series so far (the k-hat tail), merged on the device
        kept = jax.lax.top_k(jnp.concatenate([kept, series.T], axis=1), keep)[0]
        return basis.weighted_sums(phi, mask), kept

    if ck is not None:
        if len(_STEPS) > 64:
            _STEPS.clear()
        _STEPS[ck] = step
    return step
