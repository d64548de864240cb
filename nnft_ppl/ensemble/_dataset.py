"""Estimates -> an xarray Dataset (ArviZ-compatible, netCDF-writable)."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .._tails import KHAT_DOC, khat_flag
from .._tensors import expand, sorted_tuple_array
from ._estimate import Estimate


def point_dims(order: int) -> tuple[str, ...]:
    return tuple(f"p{i + 1}" for i in range(order))


def add_full(ds: xr.Dataset | dict, name: str, est: Estimate, n_points: int, order: int, index: dict, lead=()) -> None:
    """Store an estimate over sorted tuples as a full symmetric tensor, with `<name>_se`."""
    dims = tuple(d for d, _ in lead) + point_dims(order)
    default = np.array_equal(np.asarray(index, np.int64).reshape(-1, order), sorted_tuple_array(n_points, order))
    local = None if default else {tuple(t): i for i, t in enumerate(index)}  # None: the cached default lookup
    ds[name] = (dims, expand(np.asarray(est.value), n_points, order, local))
    ds[name + "_se"] = (dims, expand(np.asarray(est.se), n_points, order, local))


def add_tuples(ds: xr.Dataset | dict, name: str, est: Estimate, tuples, order: int) -> None:
    dim = f"t{order}"
    ds[f"{dim}_points"] = ((dim, f"slot{order}"), np.asarray(tuples, dtype=np.int64))
    ds[name] = ((dim,), np.asarray(est.value))
    ds[name + "_se"] = ((dim,), np.asarray(est.se))


def add_khat(ds: xr.Dataset | dict, name: str, khat: float) -> None:
    """Store the scalar Pareto k-hat of `name`'s summands as `<name>_khat`, with its flag."""
    ds[name + "_khat"] = xr.Variable((), float(khat), attrs={"description": KHAT_DOC, "flag": khat_flag(khat)})


def base_dataset(x: np.ndarray, meta: dict) -> xr.Dataset:
    p, d = x.shape
    ds = xr.Dataset(coords={"point": np.arange(p), "dim": np.arange(d)})
    ds["x"] = (("point", "dim"), x)
    for i in range(1, 7):
        ds.coords[f"p{i}"] = np.arange(p)
    ds.attrs.update({k: (json.dumps(v) if isinstance(v, (dict, list, tuple)) else v) for k, v in meta.items()})
    return ds
