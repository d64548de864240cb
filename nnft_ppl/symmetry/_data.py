"""Ensembles as ArviZ DataTrees: reading field samples out of any results tree, and
building trees of i.i.d. prior draws (optionally at transformed copies of the points).

Layout read and written: a group with `phi` of dims (chain, draw, point[, out]): i.i.d. draws
are written to `prior`, MCMC draws live in `posterior` (read by default when present; files of
earlier releases kept i.i.d. draws in `posterior` with kind "iid" and still read); the points `x`
of dims (point, dim) as a coordinate, a variable (of that group or of `constant_data`/
`observed_data`) or an attribute; the attribute `kind` ("iid" or "mcmc"; without it, "iid"
for `prior` and "mcmc" otherwise). Written trees follow the data conventions of
docs/architecture.md: `point` carries x[:, 0] (d = 1) or the index, x is also in `constant_data`.
Transformed copies live in `phi_g` (chain, draw, transform, point[, out]) with
points `x_g` (transform, point, dim).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _conventions as C
from .._errors import NNFTError
from .._keys import as_key
from .._validate import integer
from .._validate import points as _points
from ..architectures import Architecture
from ._core import MIN_SAMPLES, check_kind
from ._models import FieldSampler, VectorGaussNet

#: the group i.i.d. draws are written to (ArviZ's convention for draws not conditioned on data)
IID_GROUP = "prior"

Sampler = Callable[[PRNGKeyArray, Float[Array, "P d"]], Float[Array, "M P"]]


@dataclasses.dataclass
class Fields:
    """Field samples phi (chain, draw, point, out) at points x (point, dim), plus the draw kind."""

    phi: np.ndarray
    x: np.ndarray
    kind: str
    phi_g: np.ndarray | None = None  # (chain, draw, transform, point, out)
    x_g: np.ndarray | None = None  # (transform, point, dim)

    @property
    def n(self) -> int:
        return self.phi.shape[0] * self.phi.shape[1]

    @property
    def n_out(self) -> int:
        return self.phi.shape[-1]


def _find_x(tree, ds: xr.Dataset, name: str):
    if name in ds.coords or name in ds.data_vars:
        return np.asarray(ds[name].values)
    if name in ds.attrs:
        return np.asarray(ds.attrs[name])
    if isinstance(tree, xr.DataTree):
        for g in ("constant_data", "observed_data"):
            if g in tree.children and name in tree[g].dataset.variables:
                return np.asarray(tree[g].dataset[name].values)
        if name in tree.attrs:
            return np.asarray(tree.attrs[name])
    return None


def default_group(tree: xr.DataTree) -> str:
    """The group holding the fields: `posterior` if present (MCMC, or an older i.i.d. file), else `prior`."""
    return "posterior" if "posterior" in tree.children or IID_GROUP not in tree.children else IID_GROUP


def as_fields(data, group: str | None = None, var: str = "phi", x=None, kind: str | None = None) -> Fields:
    """Read field samples from a DataTree, a Dataset, or an array.

    `group`: the DataTree group (default `default_group`). An array is (draw, point), (draw, point, out)
    or (chain, draw, point, out) and needs `x` (default: i.i.d.). Shapes are checked against the points;
    bad input raises `NNFTError`.
    """
    if isinstance(data, Fields):
        return data
    tree = data
    if isinstance(data, xr.DataTree):
        group = default_group(data) if group is None else group
        if group not in data.children:
            raise NNFTError(f"data: DataTree has no group {group!r}; groups: {sorted(data.children)}")
        ds = data[group].to_dataset()
    elif isinstance(data, xr.Dataset):
        ds = data
    else:
        arr = np.asarray(data, np.float64)
        if arr.ndim == 2:
            arr = arr[None, :, :, None]
        elif arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4:
            raise NNFTError(f"data: field array must have 2 to 4 dims, got shape {np.shape(data)}")
        if x is None:
            raise NNFTError("x: field arrays need the points x")
        return _checked(arr, x, kind or "iid")
    if var not in ds.data_vars:
        raise NNFTError(f"data: group {group!r} has no variable {var!r}; variables: {sorted(ds.data_vars)}")
    da = ds[var]
    for dim in ("chain", "draw"):
        if dim not in da.dims:
            raise NNFTError(f"data: {var!r} must have dims (chain, draw, point[, out]), got {da.dims}")
    rest = [dm for dm in da.dims if dm not in ("chain", "draw")]
    if len(rest) not in (1, 2):
        raise NNFTError(f"data: {var!r} must have one point dim and optionally one out dim, got {da.dims}")
    arr = da.transpose("chain", "draw", *rest).values.astype(np.float64)
    if arr.ndim == 3:
        arr = arr[..., None]
    if x is None:
        x = _find_x(tree, ds, "x")
    if x is None:
        raise NNFTError("x: no points found (coordinate, variable or attribute 'x'); pass x=")
    kind = kind or ds.attrs.get("kind") or (tree.attrs.get("kind") if isinstance(tree, xr.DataTree) else None)
    f = _checked(arr, x, kind or ("iid" if group == IID_GROUP else "mcmc"))
    if var + "_g" in ds.data_vars:
        g = ds[var + "_g"]
        grest = [dm for dm in g.dims if dm not in ("chain", "draw")]
        garr = g.transpose("chain", "draw", *grest).values.astype(np.float64)
        if garr.ndim == 4:
            garr = garr[..., None]
        xg = _find_x(tree, ds, "x_g")
        if xg is None or garr.shape[:2] != f.phi.shape[:2] or garr.shape[3:] != f.phi.shape[2:]:
            raise NNFTError(f"data: {var}_g is inconsistent with {var} or lacks its points x_g")
        f.phi_g, f.x_g = garr, np.asarray(xg, np.float64)
    return f


def _checked(arr: np.ndarray, x, kind: str) -> Fields:
    x = _points("x", x)
    if arr.shape[2] != x.shape[0]:
        raise NNFTError(f"x: {x.shape[0]} points but the fields have {arr.shape[2]}")
    if arr.shape[0] * arr.shape[1] < MIN_SAMPLES:
        raise NNFTError(f"data: {arr.shape[0] * arr.shape[1]} samples; at least {MIN_SAMPLES} are needed")
    if not np.all(np.isfinite(arr)):
        raise NNFTError("data: field samples contain NaN or inf")
    return Fields(arr, x, check_kind(kind))


def fields_datatree(
    phi: Float[np.ndarray, "C D P ..."],
    x: Float[np.ndarray, "P d"],
    kind: str,
    phi_g: np.ndarray | None = None,
    x_g: np.ndarray | None = None,
    attrs: dict | None = None,
) -> xr.DataTree:
    """A DataTree with `phi` (chain, draw, point[, out]) in the group `prior` for kind "iid" and
    `posterior` for kind "mcmc", the points as coordinates (`point`: x[:, 0] in d = 1, the index
    otherwise; `x` (point, input_dim)), `constant_data` with x (and x_g), `attrs` and the library
    version in the root attrs."""
    phi = np.asarray(phi, np.float64)
    x = np.asarray(x, np.float64)
    pc = C.point_coords(x)
    dims = ["chain", "draw", C.POINT] + (["out"] if phi.ndim == 4 else [])
    data_vars = {"phi": (dims, phi)}
    coords = {**pc, "x": ((C.POINT, C.INPUT_DIM), x)}
    const = {"x": ((C.POINT, C.INPUT_DIM), x)}
    if phi_g is not None:
        gd = ["chain", "draw", "transform", C.POINT] + (["out"] if phi_g.ndim == 5 else [])
        data_vars["phi_g"] = (gd, np.asarray(phi_g, np.float64))
        coords["x_g"] = const["x_g"] = (("transform", C.POINT, C.INPUT_DIM), np.asarray(x_g, np.float64))
    ds = xr.Dataset(data_vars, coords=coords, attrs={"kind": check_kind(kind)})
    group = IID_GROUP if kind == "iid" else "posterior"
    tree = xr.DataTree.from_dict({group: ds, "constant_data": xr.Dataset(const, coords=pc)}, name="ensemble")
    root = {k: C.netcdf_attr(v) for k, v in (attrs or {}).items()}
    tree.attrs.update({**root, "kind": check_kind(kind), **C.version_attrs()})
    return tree


def model_attrs(model) -> dict:
    """The model's name and parameters (`arch_<field>`) as attributes."""
    if isinstance(model, Architecture):
        return C.arch_attrs(model)
    if isinstance(model, FieldSampler):
        fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(model)}
        return {"model": model.name, **{f"arch_{k}": C.netcdf_attr(v) for k, v in fields.items()}}
    return {"model": getattr(model, "__name__", "sampler")}


_JITTED: dict = {}


def _sampler(model) -> Sampler:
    """A (keys, points) -> fields callable for an `Architecture`, a `FieldSampler` (both jitted once
    and cached) or a plain callable."""
    if isinstance(model, VectorGaussNet):
        # sw, sb, mu are traced pytree leaves: one compilation serves a scan over mu
        static = (type(model), model.width, model.d, model.n_out)
        run = _JITTED.setdefault(static, jax.jit(lambda m, k, x: m.sample_fields(k, x)))
        return lambda k, x: run(model, k, x)
    if isinstance(model, (Architecture, FieldSampler)):
        try:
            return _JITTED.setdefault(model, jax.jit(lambda k, x: model.sample_fields(k, x)))
        except TypeError:  # unhashable model
            return jax.jit(lambda k, x: model.sample_fields(k, x))
    if callable(model):
        return model
    raise NNFTError(
        f"sampler must be an Architecture, a FieldSampler or a callable (keys, points) -> fields, got {type(model)}"
    )


def is_model(model) -> bool:
    """True for an `Architecture` or a `FieldSampler` (a model with points to check and a kernel)."""
    return isinstance(model, (Architecture, FieldSampler))


def check_points(model, x, name: str = "x") -> np.ndarray:
    """Points validated against the model's input dimension (any d for a plain sampler callable)."""
    return model.check_points(x, name) if is_model(model) else _points(name, x)


def draw_fields(model, x: np.ndarray, n: int, key: PRNGKeyArray) -> np.ndarray:
    """n networks (one per split of `key`) at points x: array (n, P, out)."""
    n = integer("n", n, MIN_SAMPLES)
    keys = jax.random.split(as_key(key, "key"), n)
    phi = np.asarray(_sampler(model)(keys, jnp.asarray(x, jnp.float64)), np.float64)
    if phi.ndim == 2:
        phi = phi[..., None]
    if phi.shape[:2] != (n, x.shape[0]):
        raise NNFTError(f"sampler returned shape {phi.shape}, expected ({n}, {x.shape[0]}[, out])")
    return phi


def prior_ensemble(arch, x: Float[np.ndarray, "P d"], n: int, key: PRNGKeyArray) -> xr.DataTree:
    """i.i.d. prior draws at `x`: chain = 1, draw = n, kind "iid".

    `arch` is an Architecture, a `FieldSampler`, or a sampler callable (keys, points) -> fields.
    """
    x = check_points(arch, x)
    phi = draw_fields(arch, x, n, key)
    attrs = {"model": arch.name if is_model(arch) else getattr(arch, "__name__", "sampler"), **model_attrs(arch)}
    return fields_datatree(phi[None, ..., 0] if phi.shape[-1] == 1 else phi[None], x, "iid", attrs=attrs)


def transformed_ensemble(
    arch, x: Float[np.ndarray, "P d"], x_g: Float[np.ndarray, "G P d"], n: int, key: PRNGKeyArray, label: str = ""
) -> xr.DataTree:
    """i.i.d. draws evaluated on the SAME networks at `x` and at each transformed copy `x_g[t]`.

    The sampler is called once on the union of the point sets, so the joint law of all
    values is exact and per-network differences cancel most of the sampling noise.
    """
    x = _points("x", x)
    x_g = np.asarray(x_g, np.float64)
    if x_g.ndim != 3 or x_g.shape[1:] != x.shape:
        raise NNFTError(f"x_g must have shape (transforms, {x.shape[0]}, {x.shape[1]}), got {x_g.shape}")
    allx = np.concatenate([x, x_g.reshape(-1, x.shape[1])], 0)
    check_points(arch, allx)
    phi = draw_fields(arch, allx, n, key)
    p, g = x.shape[0], x_g.shape[0]
    base = phi[:, :p]
    trans = phi[:, p:].reshape(n, g, p, -1)
    if phi.shape[-1] == 1:
        base, trans = base[..., 0], trans[..., 0]
    return fields_datatree(
        base[None], x, "iid", phi_g=trans[None], x_g=x_g, attrs={"transform": label, **model_attrs(arch)}
    )
