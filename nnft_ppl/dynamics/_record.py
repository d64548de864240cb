# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""A trained ensemble as an ArviZ DataTree with a `time` dimension.

Groups: `ensemble` (the field `phi`, the training `loss` and the empirical `ntk` of every network at
each record time), `correlators` (G1, G2, G2c, G4c with jackknife standard errors and Pareto
k-hat per order, the ensemble-mean NTK and the relative NTK drift |Theta_t - Theta_0|_F / |Theta_0|_F
with its SE), `theory` (the lazy-regime mean and covariance, where an analytic NTK exists and the
parametrisation is "ntk"), `constant_data` (x, x_train) and `observed_data` (y_train).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _conventions as C
from .. import _tails
from .._tensors import expand, sorted_tuples
from ..ensemble import MomentSums, MonomialBasis, cumulants, moments
from ..stats import jackknife_se

TIME = "time"
NETWORK = "network"


def field_moment_sums(phi: np.ndarray, max_order: int, n_blocks: int) -> MomentSums:
    """The library's block monomial sums (`nnft_ppl.ensemble.MomentSums`) of given samples phi
    (M, P), so its jackknife estimators and k-hat tails apply to a trained ensemble."""
    phi = np.asarray(phi, np.float64)
    m, p = phi.shape
    basis = MonomialBasis.full(p, max_order)
    edges = [b * m // n_blocks for b in range(n_blocks + 1)]
    sums = np.stack(
        [basis.flatten(basis.weighted_sums(phi[a:b], np.ones(b - a))) for a, b in zip(edges, edges[1:], strict=False)]
    )
    series = np.abs(np.concatenate([phi, phi.sum(1, keepdims=True)], axis=1)).T
    tails = _tails.merge_top(None, series, _tails.keep_size(m))
    khat = {r: _tails.max_khat(tails, m, r) for r in range(1, max_order + 1)}
    return MomentSums(basis, sums, np.diff(edges).astype(np.int64), tails, khat)


def correlators(phi: np.ndarray, n_blocks: int = 16) -> dict[str, np.ndarray]:
    """G1, G2 (moments), G2c, G4c (unbiased k-statistics) over the points, each with `_se`
    (delete-one-block jackknife), and `khat_<r>`, from fields phi (M, P) of one time."""
    p = phi.shape[1]
    ms = field_moment_sums(phi, 4, min(n_blocks, phi.shape[0]))
    out = {}
    for name, order, est in (
        ("G1", 1, moments(ms, sorted_tuples(p, 1))),
        ("G2", 2, moments(ms, sorted_tuples(p, 2))),
        ("G2c", 2, cumulants(ms, sorted_tuples(p, 2))),
        ("G4c", 4, cumulants(ms, sorted_tuples(p, 4))),
    ):
        out[name] = expand(np.asarray(est.value), p, order)
        out[name + "_se"] = expand(np.asarray(est.se), p, order)
    for r in (2, 4):
        out[f"khat_{r}"] = np.asarray(ms.khat[r])
    return out


def ntk_summary(ntk: np.ndarray, n_blocks: int = 16) -> dict[str, np.ndarray]:
    """Ensemble mean NTK (T, P, P) with its SE, and the relative drift |Theta_t - Theta_0|_F /
    |Theta_0|_F averaged over networks (T,) with its jackknife SE, from ntk (T, M, P, P)."""
    ntk = np.asarray(ntk, np.float64)
    t, m = ntk.shape[:2]
    drift = np.linalg.norm(ntk - ntk[:1], axis=(2, 3)) / np.linalg.norm(ntk[0], axis=(1, 2))[None, :]  # (T, M)
    b = min(n_blocks, m)
    edges = [i * m // b for i in range(b + 1)]
    loo = np.stack([np.delete(drift, np.s_[lo:hi], axis=1).mean(1) for lo, hi in zip(edges, edges[1:], strict=False)])
    return {
        "ntk_mean": ntk.mean(1),
        "ntk_mean_se": ntk.std(1, ddof=1) / np.sqrt(m),
        "ntk_drift": drift.mean(1),
        "ntk_drift_se": jackknife_se(loo),
    }


def build_tree(times, x, x_train, y_train, record, attrs: dict, n_blocks: int, theory=None) -> xr.DataTree:
    """The DataTree of the module docstring from a run's `Record` (arrays (T, M, ...))."""
    x = np.asarray(x, np.float64)
    coords = {TIME: np.asarray(times, np.float64), **C.point_coords(x, 4)}
    phi = np.asarray(record.phi, np.float64)
    ens = xr.Dataset(
        {"phi": ((TIME, NETWORK, C.POINT), phi), "loss": ((TIME, NETWORK), np.asarray(record.loss, np.float64))},
        coords={k: v for k, v in coords.items() if k in (TIME, C.POINT)},
    )
    per_t = [correlators(phi[i], n_blocks) for i in range(phi.shape[0])]
    corr = {k: np.stack([c[k] for c in per_t]) for k in per_t[0]}
    dims = {1: C.tensor_dims(1), 2: C.tensor_dims(2), 4: C.tensor_dims(4)}
    data = {}
    for k, v in corr.items():
        order = 0 if k.startswith("khat") else int(k[1])
        data[k] = ((TIME, *dims[order]) if order else (TIME,), v)
    if record.ntk is not None:
        ntk = np.asarray(record.ntk, np.float64)
        ens["ntk"] = ((TIME, NETWORK, *dims[2]), ntk)
        ens = ens.assign_coords({d: coords[d] for d in dims[2]})
        for k, v in ntk_summary(ntk, n_blocks).items():
            data[k] = ((TIME, *dims[2]) if v.ndim == 3 else (TIME,), v)
    groups = {
        "ensemble": ens,
        "correlators": xr.Dataset(data, coords={k: v for k, v in coords.items() if k != C.POINT}),
        "constant_data": xr.Dataset(
            {"x": ((C.POINT, C.INPUT_DIM), x), "x_train": (("train_point", C.INPUT_DIM), np.asarray(x_train))},
            coords={C.POINT: coords[C.POINT], C.INPUT_DIM: coords[C.INPUT_DIM]},
        ),
        "observed_data": xr.Dataset({"y_train": (("train_point",), np.asarray(y_train, np.float64))}),
    }
    if theory is not None:
        mean, cov = theory
        groups["theory"] = xr.Dataset(
            {"mean": ((TIME, C.POINT), mean), "cov": ((TIME, *dims[2]), cov)},
            coords={k: v for k, v in coords.items() if k in (TIME, C.POINT, *dims[2])},
        )
    meta = {k: C.netcdf_attr(v) for k, v in attrs.items()}
    for ds in groups.values():
        ds.attrs.update(meta)
    tree = xr.DataTree.from_dict({f"/{k}": v for k, v in groups.items()})
    tree.attrs.update(meta)
    return tree
