"""Data conventions shared by every Dataset and DataTree the library writes.

- `point`: the dimension of the points x; its coordinate is the position x[:, 0] in d = 1 (so
  `.sel(point=0.5, method="nearest")` works) and the point's index otherwise.
- `point_1 .. point_r`: the r indices of a correlator tensor, each with the same coordinate as `point`.
- `input_dim`: the columns of x (numbered); `x` itself is kept as a (point, input_dim) array.
- attrs: the architecture's name and parameters (`arch_<field>`) and `nnft_ppl_version`.
"""

from __future__ import annotations

import numpy as np

#: the point dimension, everywhere
POINT = "point"
#: the columns of the points
INPUT_DIM = "input_dim"


def tensor_dims(order: int) -> tuple[str, ...]:
    """The dims of an order-`order` correlator tensor: `point_1 .. point_order`."""
    return tuple(f"{POINT}_{i + 1}" for i in range(order))


def point_values(x: np.ndarray) -> np.ndarray:
    """The coordinate of the point dimension: x[:, 0] in d = 1, the index 0..P-1 otherwise."""
    x = np.asarray(x)
    return np.asarray(x[:, 0], np.float64) if x.ndim == 2 and x.shape[1] == 1 else np.arange(x.shape[0])


def point_coords(x: np.ndarray, max_order: int = 0) -> dict[str, np.ndarray]:
    """Coordinates `point`, `input_dim` and `point_1 .. point_<max_order>` for the points x (P, d)."""
    pv = point_values(x)
    out = {POINT: pv, INPUT_DIM: np.arange(np.asarray(x).shape[1])}
    out.update({d: pv for d in tensor_dims(max_order)})
    return out


def version_attrs() -> dict:
    """The library version as an attribute."""
    from . import __version__

    return {"nnft_ppl_version": __version__}


def arch_attrs(arch) -> dict:
    """The architecture's name and parameters (`arch_<field>`, netCDF-safe) and the library version."""
    out = {"architecture": arch.name, **version_attrs()}
    for k, v in arch.params().items():
        out[f"arch_{k}"] = netcdf_attr(v)
    return out


def netcdf_attr(v):
    """A value as a netCDF attribute: numbers and strings as they are, bools as ints, else text."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    return v if isinstance(v, (int, float, str)) else str(v)
