"""Network-level estimator: G1..G6 and the connected G2c..G6c of an ensemble, streamed."""

from __future__ import annotations

import numpy as np
import xarray as xr
from jaxtyping import Array, Float

from .. import _tails
from .. import _validate as V
from .._errors import NNFTError
from .._keys import as_dtype
from .._tensors import sorted_tuples
from ..architectures import Architecture, LinearReadout
from ._basis import MonomialBasis
from ._checkpoint import fingerprint
from ._dataset import add_full, add_khat, add_tuples, base_dataset
from ._estimate import cumulants, moments
from ._stream import as_key, key_fingerprint, stream_moment_sums

MAX_ORDER = 6


def check_common(arch, x, n, name_n, max_order, n_blocks, dtype):
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
    x = arch.check_points(x)
    n = V.integer(name_n, n, minimum=1)
    max_order = V.integer("max_order", max_order, minimum=1)
    if max_order > MAX_ORDER or max_order < 2:
        raise NNFTError(f"max_order: supported orders are 2..{MAX_ORDER}, got {max_order}")
    n_blocks = V.integer("n_blocks", n_blocks, minimum=8)
    if n < 8 * 4 or n < 2 * (max_order + 1) * 8:
        raise NNFTError(
            f"{name_n}: {n} is too few for an error bar at order {max_order}; "
            f"need at least {max(32, 16 * (max_order + 1))}"
        )
    n_blocks = min(n_blocks, n // 4)
    as_dtype(dtype)
    return x, n, max_order, n_blocks


def check_tuples(tuples, max_order: int) -> list[tuple[int, ...]]:
    """Requested index tuples as tuples of ints; an order above `max_order` (or empty) is refused."""
    try:
        out = [tuple(int(i) for i in t) for t in tuples]
    except (TypeError, ValueError) as e:
        raise NNFTError(f"tuples: expected a list of index tuples, got {tuples!r}") from e
    if not out:
        raise NNFTError("tuples: no index tuples given")
    bad = [t for t in out if not 1 <= len(t) <= max_order]
    if bad:
        raise NNFTError(f"tuples: {bad[:3]} have orders outside 1..max_order = {max_order}; raise max_order")
    return out


def default_chunk(arch, n_points: int) -> int:
    cost = getattr(arch, "width", 64) * max(n_points, 1)
    return int(np.clip(2**21 // cost, 16, 4096))


def ensemble_correlators(
    arch: Architecture,
    x: Float[Array, "P d"],
    n_nets: int,
    key=0,
    *,
    max_order: int = 6,
    tuples=None,
    n_blocks: int = 64,
    chunk: int | None = None,
    dtype: str = "float64",
    progress: bool = True,
    checkpoint=None,
    return_sums: bool = False,
    devices=None,
    engine: str = "jax",
    collapse: bool = False,
) -> xr.Dataset:
    """Sample `n_nets` networks and estimate their correlators at points `x`.

    Returns a Dataset with, for every order r <= `max_order`, the full tensors `G{r}`
    (E[phi(x_i1)...phi(x_ir)]) and, for r >= 2, the connected `G{r}c` (unbiased
    k-statistics), each with a jackknife standard error `*_se` over `n_blocks` blocks.
    With `tuples` (index tuples, for many points) only those entries are estimated;
    `return_sums` also returns the block sums (for further jackknifed statistics).
    Sampling runs in `dtype`; accumulation is always float64. The result depends on
    `key` alone, not on `chunk`. With `checkpoint`, finished blocks survive interruption.

    Every estimate `V` comes with a scalar `V_khat`: the Pareto k-hat of its order's summands
    |phi(x_i)|^r and |sum_i phi(x_i)|^r, at least the architecture's predicted k (which warns
    before sampling). k <= 0.5: value and error bar reliable; 0.5 < k <= 0.7: the error bar is not;
    k > 0.7: the value itself is not (`nnft_ppl.khat_flag`).

    `devices` (None: all, of every process; an int k: the first k; or a list): chunks are split over
    them and sums reduced; the draws do not depend on the device count.
    `engine="fused"` (single-layer i.i.d.-neuron nets): the fused Pallas kernel (`ensemble._fused`),
    the same distribution without activations in memory, other draws (deterministic for a key).
    `collapse=True` (Gaussian readouts, `LinearReadout`): the readout integrated out exactly; each
    network contributes phi's moments given its hidden layer (hafnians of b^2 + (s^2/N) h^T h): smaller
    errors, lighter tails (k-hat of the conditional standard deviations; ~0.15 instead of ~0.6 at order 6
    for a width-20 ReLU net), odd moments exactly zero, plug-in connected functions (bias O(1/n_nets)).
    """
    dtype = str(as_dtype(dtype))  # a string, NumPy or jnp dtype
    x, n_nets, max_order, n_blocks = check_common(arch, x, n_nets, "n_nets", max_order, n_blocks, dtype)
    key = as_key(key)
    p = x.shape[0]
    sample_fn, sampler = _sampler(arch, np.asarray(x, dtype), np.dtype(dtype), engine, collapse)  # refused early
    if tuples is not None:
        tuples = check_tuples(tuples, max_order)
    basis = MonomialBasis.full(p, max_order) if tuples is None else MonomialBasis.from_tuples(p, tuples)
    predicted = arch.predicted_khat(x, range(1, basis.max_order + 1), n_nets)
    _tails.warn_heavy(predicted, "network-level")
    chunk = V.integer("chunk", chunk) if chunk is not None else default_chunk(arch, p)
    jdtype = np.dtype(dtype)
    xj = np.asarray(x, jdtype)
    estimator = "network (readout integrated)" if collapse else "network"
    meta = {"architecture": arch.name, "params": arch.params(), "n_nets": n_nets, "key": key_fingerprint(key)}
    meta |= {"n_blocks": n_blocks, "dtype": dtype, "estimator": estimator, "engine": engine}
    meta["se_method"] = "delete-one-block jackknife"
    ms = stream_moment_sums(
        sample_fn,
        n_nets,
        key,
        basis,
        n_blocks=n_blocks,
        chunk=chunk,
        progress=progress,
        desc=f"{arch.name} N={getattr(arch, 'width', '-')}",
        checkpoint=checkpoint,
        fingerprint=None
        if checkpoint is None
        else fingerprint(arch, x, dtype=dtype, estimator="network", max_order=max_order, sampler=sampler),
        cache_key=(arch, xj.tobytes(), dtype, "network", sampler),
        devices=devices,
        conditional=bool(collapse),
    )
    ms = ms._replace(khat=_tails.with_prediction(ms.khat, predicted))
    ds = moments_dataset(ms, x, meta, tuples, max_order)
    return (ds, ms) if return_sums else ds


def _sampler(arch, xj, jdtype, engine, collapse=False):
    """The per-network sampler `keys -> phi (M, P)` of an engine (with `collapse`, `keys -> phi's
    conditional covariances (M, P, P)`), and its name (for checkpoints and compiled steps)."""
    if collapse:
        if not isinstance(arch, LinearReadout):
            raise NNFTError(f"collapse: {arch.name} has no Gaussian linear readout (LinearReadout) to integrate out")
        if engine != "jax":
            raise NNFTError(f"collapse: needs engine='jax', got engine={engine!r}")
        return (lambda keys: arch.sample_conditional_covariances(keys, xj, jdtype)), "conditional_covariances"
    if engine == "jax":
        return (lambda keys: arch.sample_fields(keys, xj, jdtype)), "sample_fields"
    if engine == "fused":
        from ._fused import fused_sampler

        return fused_sampler(arch, xj, jdtype), "fused"
    raise NNFTError(f"engine: must be 'jax' or 'fused', got {engine!r}")


def moments_dataset(ms, x, meta, tuples, max_order) -> xr.Dataset:
    ds, out = base_dataset(x, meta), {}  # variables collected first: one merge into the Dataset
    p = x.shape[0]
    for r in range(1, max_order + 1):
        if tuples is None:
            tl = sorted_tuples(p, r)
            add_full(out, f"G{r}", moments(ms, tl), p, r, tl)
            add_khat(out, f"G{r}", ms.khat[r])
            if r >= 2:
                add_full(out, f"G{r}c", cumulants(ms, tl), p, r, tl)
                add_khat(out, f"G{r}c", ms.khat[r])
        else:
            tl = [tuple(t) for t in tuples if len(t) == r]
            if r == 2 and not tl:
                tl = sorted_tuples(p, 2)
            if not tl:
                continue
            add_tuples(out, f"G{r}", moments(ms, tl), tl, r)
            add_khat(out, f"G{r}", ms.khat[r])
            if r >= 2:
                add_tuples(out, f"G{r}c", cumulants(ms, tl), tl, r)
                add_khat(out, f"G{r}c", ms.khat[r])
    ds.update(out)
    return ds
