"""The width-scaling experiment of arXiv:2008.08601: how the ensemble's n-point
functions approach the GP as the width grows.

Deviations are measured on the smeared field Phi = sum_i phi(x_i) (the sum over every
entry of the correlator tensors), signed and normalised by the GP value:
  d4  = (sum G4  - sum G4_GP) / sum G4_GP   ~ 1/N
  d6  = (sum G6  - sum G6_GP) / sum G6_GP   ~ 1/N (+ 1/N^2)
  d6c =  sum G6c              / sum G6_GP   ~ 1/N^2
  d6m = d6 - d6c (the 15 G4c x G2 terms)     ~ 1/N exactly where G2 = K
with G_GP the Wick sums of the analytic kernel. For i.i.d. neurons the exact values
follow from the exact connected functions, and the neuron-level estimator gives them
at every width from one neuron ensemble.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .. import _conventions as C
from .._combinatorics import GAUSS_XI
from .._errors import NNFTError
from ..architectures import IIDNeuronArchitecture, make_architecture
from ..ensemble import (
    Estimate,
    cumulants,
    ensemble_correlators,
    moments,
    neuron_correlators,
    sorted_tuples,
    tensor_sum,
)
from ..ensemble._stream import as_key
from ..stats import se_threshold
from ..theory import exact_connected
from ._verdicts import EXPECTED_SLOPES, KHAT_ORDER, fit_slopes

__all__ = ["EXPECTED_SLOPES", "fit_slopes", "gp_sums", "width_scaling"]


def _fold(key, i: int):
    import jax

    return jax.random.fold_in(as_key(key), i)


def gp_sums(k: np.ndarray) -> dict[str, float]:
    """Sums over all entries of the Wick tensors: 3 S2^2 and 15 S2^3, S2 = sum K."""
    s2 = float(np.sum(k))
    return {"S2": s2, "S4": 3 * s2**2, "S6": 15 * s2**3}


def width_scaling(
    name: str,
    params: dict,
    x,
    widths,
    n_nets,
    key=0,
    *,
    n_neurons: int = 0,
    dtype: str = "float32",
    progress: bool = True,
) -> xr.Dataset:
    """Run the experiment for one architecture.

    Returns, per width, d4, d6, d6c, d6m with jackknife SEs (`*_se`) and the Pareto k-hat of
    their summands (`*_khat`: order 4 for d4, order 6 for the others; k <= 0.5 value and error
    bar reliable, 0.5 < k <= 0.7 error bar unreliable, k > 0.7 value unreliable), the
    G2-vs-kernel check, and for i.i.d. neurons the exact values (`*_exact`) and, with
    `n_neurons`, the neuron-level estimates (`d4_neuron`, `d6c_neuron`, with SEs and k-hat).
    The architecture's parameters are attrs (`param_<name>`, and `params` as JSON), with the library
    version; the points are the coordinates of `point_1`, `point_2` (x[:, 0] in d = 1) and `x` is a
    coordinate along `point_1`.
    """
    widths = [int(w) for w in widths]
    if len(widths) < 3:
        raise NNFTError("widths: need at least 3 widths for a scaling fit")
    nets = dict(zip(widths, np.broadcast_to(np.asarray(n_nets), (len(widths),)).tolist(), strict=True))
    arch0 = make_architecture(name, width=widths[0], **params)
    x = arch0.check_points(x)
    k = np.asarray(arch0.nngp_kernel(x, x))
    gp = gp_sums(k)
    cols: dict[str, list] = {}
    for i, n in enumerate(widths):
        arch = arch0.at_width(n)
        ds, ms = ensemble_correlators(
            arch, x, nets[n], _fold(key, i), max_order=6, dtype=dtype, progress=progress, return_sums=True
        )
        for c, val in _width_row(ds, ms, x, k, gp).items():
            cols.setdefault(c, []).append(val)
    pair = C.tensor_dims(2)
    coords = C.point_coords(x, 2)
    out = xr.Dataset(coords={"width": widths, **{d: coords[d] for d in (C.INPUT_DIM, *pair)}})
    out.coords["x"] = ((pair[0], C.INPUT_DIM), x)  # the points, along the first index
    out["kernel"] = (pair, k)
    out["n_nets"] = (("width",), np.asarray([nets[n] for n in widths]))
    for c, vals in cols.items():
        out[c] = (("width",) + (pair if c in ("G2", "G2_se") else ()), np.asarray(vals))
    n_pairs = len(x) * (len(x) + 1) // 2
    arch_params = arch0.params()
    arch_params.pop("width", None)
    out.attrs.update(
        architecture=name,
        params=json.dumps(arch_params, default=str),
        **{f"param_{p}": _attr(v) for p, v in arch_params.items()},
        se_dof=int(out.n_blocks.min()) - 1,
        g2_threshold=se_threshold(n_pairs * len(widths), dof=int(out.n_blocks.min()) - 1),
        exact_two_point=int(arch0.exact_two_point),
        **C.version_attrs(),
    )
    if isinstance(arch0, IIDNeuronArchitecture):
        _add_exact(out, arch0, x, gp)
        if n_neurons:
            _add_neuron_level(out, arch0, x, gp, n_neurons, _fold(key, 10_000), dtype, progress)
    return out


def _attr(v):
    """A parameter value as a netCDF attribute (numbers and strings as they are, else text)."""
    if isinstance(v, bool):
        return int(v)
    return v if isinstance(v, (int, float, str)) else str(v)


def _width_row(ds, ms, x, k, gp) -> dict:
    """One width's deviations, SEs, k-hats and G2-vs-kernel check."""
    t4, t6 = sorted_tuples(x.shape[0], 4), sorted_tuples(x.shape[0], 6)
    est = {
        "d4": tensor_sum(moments(ms, t4), t4).map(lambda s: s / gp["S4"] - 1.0),
        "d6": tensor_sum(moments(ms, t6), t6).map(lambda s: s / gp["S6"] - 1.0),
        "d6c": tensor_sum(cumulants(ms, t6), t6).map(lambda s: s / gp["S6"]),
    }
    est["d6m"] = Estimate(est["d6"].value - est["d6c"].value, est["d6"].replicas - est["d6c"].replicas)
    row = {}
    for v, e in est.items():
        row[v] = float(e.value)
        row[v + "_se"] = float(e.se)
        row[v + "_khat"] = float(ms.khat[KHAT_ORDER[v]])
    iu = np.triu_indices(x.shape[0])
    row.update(G2=ds.G2.values, G2_se=ds.G2_se.values, G2_khat=float(ms.khat[2]), n_blocks=len(ms.block_counts))
    row["G2_max_abs_z"] = float(np.max(np.abs((ds.G2.values - k) / ds.G2_se.values)[iu]))
    return row


def _add_exact(out: xr.Dataset, arch, x, gp) -> None:
    """Exact d4, d6, d6c at every width from the exact connected functions at N = 1."""
    w = out.width.values.astype(np.float64)
    c4 = float(np.sum(exact_connected(arch, x, 4, width=1)))
    c6 = float(np.sum(exact_connected(arch, x, 6, width=1)))
    out["d4_exact"] = (("width",), c4 / w / gp["S4"])
    out["d6_exact"] = (("width",), (15 * c4 * gp["S2"] / w + c6 / w**2) / gp["S6"])
    out["d6c_exact"] = (("width",), c6 / w**2 / gp["S6"])
    out["d6m_exact"] = (("width",), 15 * c4 * gp["S2"] / w / gp["S6"])


def _add_neuron_level(out, arch, x, gp, n_neurons, key, dtype, progress) -> None:
    """d4 and d6c at every width from one ensemble of single neurons."""
    p = x.shape[0]
    _, ms = neuron_correlators(arch, x, n_neurons, key, max_order=6, dtype=dtype, progress=progress, return_sums=True)
    w = out.width.values.astype(np.float64)
    s = arch.readout_std
    t4, t6 = sorted_tuples(p, 4), sorted_tuples(p, 6)
    k4 = tensor_sum(cumulants(ms, t4, GAUSS_XI), t4).map(lambda v: s**4 * v / gp["S4"])
    k6 = tensor_sum(cumulants(ms, t6, GAUSS_XI), t6).map(lambda v: s**6 * v / gp["S6"])
    out["d4_neuron"] = (("width",), k4.value / w)
    out["d4_neuron_se"] = (("width",), k4.se / w)
    out["d6c_neuron"] = (("width",), k6.value / w**2)
    out["d6c_neuron_se"] = (("width",), k6.se / w**2)
    out["d4_neuron_khat"] = ((), float(ms.khat[4]))
    out["d6c_neuron_khat"] = ((), float(ms.khat[6]))
    out.attrs.update(n_neurons=n_neurons, neuron_n_blocks=len(ms.block_counts))
