"""Neuron-level estimator: for i.i.d. neurons the cumulants add, so one ensemble of
single neurons gives the connected functions at every width:
kappa_r(phi) = N^(1 - r/2) s^r kappa_r(w h), r >= 3, and G2 = b^2 + s^2 E[h h]."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _tails
from .. import _validate as V
from .._combinatorics import GAUSS_XI
from .._errors import NNFTError
from .._keys import as_dtype
from .._tensors import sorted_tuples
from ..architectures import IIDNeuronArchitecture
from ..architectures._loglinear import LogLinearNeurons
from ._basis import MonomialBasis
from ._dataset import add_full, add_khat, base_dataset
from ._estimate import Estimate, cumulants
from ._network import check_common
from ._stream import as_key, key_fingerprint, stream_moment_sums
from ._tilted import tilted_moment_sums


def neuron_correlators(
    arch: IIDNeuronArchitecture,
    x,
    n_neurons: int,
    key=0,
    *,
    widths=None,
    max_order: int = 6,
    n_blocks: int = 64,
    chunk: int = 4096,
    dtype: str = "float64",
    progress: bool = True,
    return_sums: bool = False,
    tilt: bool | None = None,
    devices=None,
) -> xr.Dataset:
    """G2 and the connected G4c, G6c (even orders up to `max_order`) at each width in
    `widths` (default: the architecture's own), from `n_neurons` independent neurons.

    The readout weight is integrated out exactly (Rao-Blackwellised): only hidden
    neurons are sampled. Errors are jackknife errors of the neuron ensemble, scaled.
    Each estimate `V` has a scalar `V_khat`, the Pareto k-hat of the neuron summands |h(x_i)|^r
    and |sum_i h(x_i)|^r (independent of width): k <= 0.5 reliable; 0.5 < k <= 0.7 error bar
    unreliable; k > 0.7 value unreliable (`nnft_ppl._tails.khat_flag`).

    Architectures declaring `LogLinearNeurons` (GaussNet) use, by default (`tilt=None`), the
    exponentially tilted estimator (`ensemble._tilted`): one importance-sampled neuron ensemble
    per even order, exact in expectation, with near-zero variance for points near their
    centroid; `V_khat` is then the k-hat of the tilted summands. `tilt=False` samples plainly.
    With `return_sums` the sums come back too (`MomentSums`, or `TiltedSums` when tilted; both
    work with `moments`/`cumulants` and carry `khat`).
    `devices`: as `ensemble_correlators` (None: all; the draws do not depend on the count).
    """
    if not isinstance(arch, IIDNeuronArchitecture):
        raise NNFTError(f"arch: the neuron-level estimator needs i.i.d. neurons; {type(arch).__name__} has none")
    dtype = str(as_dtype(dtype))  # a string, NumPy or jnp dtype
    x, n_neurons, max_order, n_blocks = check_common(arch, x, n_neurons, "n_neurons", max_order, n_blocks, dtype)
    widths = [arch.width] if widths is None else [V.integer("widths", w) for w in np.atleast_1d(widths)]
    key = as_key(key)
    capable = isinstance(arch, LogLinearNeurons)
    tilt = capable if tilt is None else bool(tilt)
    if tilt and not capable:
        raise NNFTError(f"tilt: {arch.name} does not declare log-linear neurons (LogLinearNeurons); use tilt=False")
    chunk = V.integer("chunk", chunk)
    ms = _neuron_sums(arch, x, n_neurons, key, max_order, n_blocks, chunk, dtype, progress, tilt, devices)
    meta = {
        "architecture": arch.name,
        "params": arch.params(),
        "n_neurons": n_neurons,
        "key": key_fingerprint(key),
        "n_blocks": n_blocks,
        "dtype": dtype,
        "estimator": "neuron (exponentially tilted)" if tilt else "neuron",
        "se_method": "delete-one-block jackknife",
    }
    ds = _neuron_dataset(arch, x, ms, widths, max_order, meta)
    return (ds, ms) if return_sums else ds


def _neuron_sums(arch, x, n_neurons, key, max_order, n_blocks, chunk, dtype, progress, tilt, devices=None):
    """Block sums of the neuron monomials: tilted (one ensemble per even order) or plain, with k-hat."""
    p = x.shape[0]
    jdtype = np.dtype(dtype)
    xj = np.asarray(x, jdtype)
    if tilt:
        return tilted_moment_sums(
            arch,
            x,
            n_neurons,
            key,
            range(2, max_order + 1, 2),
            n_blocks=n_blocks,
            chunk=chunk,
            dtype=jdtype,
            progress=progress,
            devices=devices,
        )
    predicted = arch.predicted_khat(x, range(2, max_order + 1, 2), n_neurons)
    _tails.warn_heavy(predicted, "neuron-level")
    ms = stream_moment_sums(
        lambda keys: arch.sample_neuron_features(keys, xj, jdtype),
        n_neurons,
        key,
        MonomialBasis.full(p, max_order),
        n_blocks=n_blocks,
        chunk=chunk,
        progress=progress,
        desc=f"{arch.name} neurons",
        cache_key=(arch, xj.tobytes(), dtype, "neuron"),
        devices=devices,
    )
    return ms._replace(khat=_tails.with_prediction(ms.khat, predicted))


def _neuron_dataset(arch, x, ms, widths, max_order, meta) -> xr.Dataset:
    """G2 and G_rc at every width from the neuron cumulants: kappa_r(phi) = N^(1 - r/2) s^r kappa_r(w h)."""
    p = x.shape[0]
    ds, out = base_dataset(x, meta), {}  # variables collected first: one merge into the Dataset
    ds.coords["width"] = np.asarray(widths)
    s, b = arch.readout_std, arch.bias_std
    w = np.asarray(widths, np.float64)
    for r in range(2, max_order + 1, 2):
        tl = sorted_tuples(p, r)
        k = cumulants(ms, tl, GAUSS_XI)
        if r == 2:
            add_full(out, "G2", k.map(lambda v: b**2 + s**2 * v), p, 2, tl)
            add_khat(out, "G2", ms.khat[2])
            continue
        scale = w ** (1.0 - r / 2.0) * s**r
        est = Estimate(scale[:, None] * k.value[None, :], scale[None, :, None] * k.replicas[:, None, :])
        add_full(out, f"G{r}c", est, p, r, tl, lead=(("width", widths),))
        add_khat(out, f"G{r}c", ms.khat[r])  # the neuron summands h^r: the same at every width
    ds.update(out)
    return ds
