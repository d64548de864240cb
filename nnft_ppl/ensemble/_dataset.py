"""Estimates -> an xarray Dataset (ArviZ-compatible, netCDF-writable)."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .. import _conventions as C
from .._tails import KHAT_DOC, khat_flag
from .._tensors import expand, sorted_tuple_array
from ._estimate import Estimate


def point_dims(order: int) -> tuple[str, ...]:
    """The dims of an order-`order` tensor: `point_1 .. point_order` (docs/architecture.md, Data conventions)."""
    return C.tensor_dims(order)


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
    """An empty Dataset with the point coordinates (`point`, `point_1 .. point_6`: x[:, 0] in d = 1, the
    index otherwise; `input_dim`), x (point, input_dim) as a coordinate, `meta`, the architecture's
    parameters (`arch_<field>`) and the library version as attrs."""
    ds = xr.Dataset(coords=C.point_coords(x, 6))
    ds.coords["x"] = ((C.POINT, C.INPUT_DIM), x)
    ds.attrs.update({k: (json.dumps(v) if isinstance(v, (dict, list, tuple)) else v) for k, v in meta.items()})
    if isinstance(meta.get("params"), dict):
        ds.attrs.update({f"arch_{k}": C.netcdf_attr(v) for k, v in meta["params"].items()})
    ds.attrs.update(C.version_attrs())
    return ds
