"""NUTS results as ArviZ DataTrees in ArviZ's conventions: NumPyro's standard sample stats
(energy, diverging, n_steps, acceptance_rate, step_size, lp, tree_depth), named dims (`neuron`,
`neuron_in`, `input_dim`, `output`; `point` for the data points and `test_point` for the test
points, with the points as coordinates when d = 1), `constant_data` with x and x_test,
`observed_data` with y, and the architecture's parameters and the library version in attrs."""

from __future__ import annotations

import arviz_base as azb
import numpy as np
import xarray as xr

from ..architectures import Architecture

#: NumPyro's MCMC fields that arviz-base turns into the standard sample_stats
EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "adapt_state.step_size", "potential_energy")

#: the point dimension of the data and of the test points
POINT, TEST_POINT = "point", "test_point"

_POINT_SITES = {"f": POINT, "y": POINT, "loo_loglik": POINT}
_TEST_SITES = {"f_test": TEST_POINT, "f_test_cmean": TEST_POINT, "f_test_cvar": TEST_POINT}


def param_dims(name: str, shape: tuple[int, ...], width: int, d: int) -> list[str]:
    """Dim names of a parameter site of shape `shape` (without chain and draw): the rows of a
    layer are `neuron` (`output` for a single readout row), the columns `input_dim` for the
    first layer and `neuron_in` after it."""
    base = name.removesuffix("_decentered")
    dims = []
    for i, size in enumerate(shape):
        if i == 0:
            dim = "neuron" if size == width else "output" if size == 1 else None
        elif i == 1:
            first = base in ("W0", "w") and size == d
            dim = "input_dim" if first else "neuron_in" if size == width else "input_dim" if size == d else None
        else:
            dim = None
        dims.append(dim or f"{base}_dim_{i}")
    return dims


def site_dims(arch: Architecture, samples: dict) -> dict[str, list[str]]:
    """Dims of every site in `samples` (leading chain and draw axes)."""
    width = int(getattr(arch, "width", -1))
    dims = {}
    for k, v in samples.items():
        if k in _POINT_SITES:
            dims[k] = [_POINT_SITES[k]]
        elif k in _TEST_SITES:
            dims[k] = [_TEST_SITES[k]]
        else:
            dims[k] = param_dims(k, tuple(np.shape(v))[2:], width, arch.d)
    dims["y"] = [POINT]
    return dims


def point_coords(x: np.ndarray, x_test: np.ndarray | None) -> dict:
    """The points as coordinates in d = 1 (so `.sel(point=0.5, method="nearest")` works), their
    index otherwise; `input_dim` numbered."""
    pts = lambda a: a[:, 0] if a.shape[1] == 1 else np.arange(a.shape[0])
    coords = {POINT: pts(x), "input_dim": np.arange(x.shape[1])}
    if x_test is not None:
        coords[TEST_POINT] = pts(x_test)
    return coords


def arch_attrs(arch: Architecture) -> dict:
    """The architecture's name and parameters (`arch_<field>`) and the library version, netCDF-safe."""
    from .. import __version__

    out = {"architecture": arch.name, "nnft_ppl_version": __version__}
    for k, v in arch.params().items():
        out[f"arch_{k}"] = int(v) if isinstance(v, bool) else v
    return out


def inputs_groups(x: np.ndarray, y: np.ndarray, x_test: np.ndarray | None, coords: dict) -> dict[str, xr.Dataset]:
    """`constant_data` (x, x_test) and `observed_data` (y), with the point coordinates."""
    cd = {"x": ((POINT, "input_dim"), x)}
    if x_test is not None:
        cd["x_test"] = ((TEST_POINT, "input_dim"), x_test)
    cc = {k: v for k, v in coords.items() if k in (POINT, TEST_POINT, "input_dim")}
    return {
        "constant_data": xr.Dataset(cd, coords=cc),
        "observed_data": xr.Dataset({"y": ((POINT,), y)}, coords={POINT: coords[POINT]}),
    }


def with_extra_posterior(dt, extra: dict, dims: dict, coords: dict):
    """`dt` with the arrays `extra` (leading chain and draw axes) added to its posterior."""
    post = dt.posterior.to_dataset()
    for k, v in extra.items():
        post[k] = (("chain", "draw", *dims[k]), np.asarray(v))
    dt["posterior"] = post.assign_coords({k: v for k, v in coords.items() if k in post.dims})
    return dt


def per_point(values: np.ndarray, coords: dict, meaning: str | None = None) -> xr.Dataset:
    """A (chain, draw, point) array as the `y` variable of a log-likelihood group."""
    n_chain, n_draw = values.shape[:2]
    return xr.Dataset(
        {"y": (("chain", "draw", POINT), values)},
        coords={"chain": np.arange(n_chain), "draw": np.arange(n_draw), POINT: coords[POINT]},
        attrs={} if meaning is None else {"meaning": meaning},
    )


def from_mcmc(mcmc, pp: dict, dims: dict, coords: dict, log_likelihood: bool):
    """arviz-base's conversion of the NumPyro run with our dims and coords."""
    return azb.from_numpyro(mcmc, posterior_predictive=pp, log_likelihood=log_likelihood, dims=dims, coords=coords)
