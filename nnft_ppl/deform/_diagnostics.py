"""ArviZ DataTree output and the convergence gate (rank-normalised R-hat, bulk/tail ESS, divergences).

ArviZ is imported inside the functions, so the sampling modules stay usable without it.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from .. import _conventions as C
from .._errors import NNFTError
from ._sample import DeformedRun

RHAT_MAX = 1.01
ESS_MIN = 400.0
#: the observables the gate checks by default (theta itself has an exchangeable-neuron symmetry)
GATE_VARS = ("phi", "S_int_value")


class Diagnostics(NamedTuple):
    """Worst-case diagnostics over the gated variables, and the failed checks (`flags`)."""

    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    n_draws: int
    flags: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.flags

    def as_attrs(self) -> dict:
        return {
            "rhat_max": self.rhat_max,
            "ess_bulk_min": self.ess_bulk_min,
            "ess_tail_min": self.ess_tail_min,
            "divergences": self.divergences,
            "diagnostics_ok": int(self.ok),
            "diagnostics_flags": "; ".join(self.flags) or "none",
        }


#: NumPyro's field names -> ArviZ's standard sample_stats names (as arviz-base's `from_numpyro`)
STAT_NAMES = {
    "diverging": "diverging",
    "accept_prob": "acceptance_rate",
    "num_steps": "n_steps",
    "energy": "energy",
    "step_size": "step_size",
}


def sample_stats(run: DeformedRun) -> dict[str, np.ndarray]:
    """ArviZ's standard sample_stats from NumPyro's fields: diverging, acceptance_rate, n_steps,
    energy, step_size, lp (= -potential_energy) and, for NUTS, tree_depth and reached_max_tree_depth."""
    st = run.sample_stats
    stats = {new: np.asarray(st[old]) for old, new in STAT_NAMES.items() if old in st}
    if "potential_energy" in st:
        stats["lp"] = -np.asarray(st["potential_energy"])
    if "num_steps" in st and run.meta.get("kernel", "nuts") == "nuts":
        depth = np.log2(np.maximum(np.asarray(st["num_steps"]), 1)).astype(np.int64) + 1
        stats["tree_depth"] = depth
        if "max_tree_depth" in run.meta:
            stats["reached_max_tree_depth"] = depth >= int(run.meta["max_tree_depth"])
    return stats


def site_dims(name: str, shape: tuple[int, ...], width: int, d: int) -> list[str]:
    """Named dims of a parameter site (without chain and draw): rows `neuron` (`output` for one
    readout row), columns `input_dim` (first layer) or `neuron_in`; anything else `<name>_axis<i>`."""
    base = name.removesuffix("_decentered")
    dims = []
    for i, size in enumerate(shape):
        dim = None
        if i == 0:
            dim = "neuron" if size == width else "output" if size == 1 else None
        elif i == 1:
            first = base in ("W0", "w") and size == d
            dim = "input_dim" if first else "neuron_in" if size == width else "input_dim" if size == d else None
        dims.append(dim or f"{base}_axis{i}")
    return dims


def to_datatree(run: DeformedRun):
    """The run as an ArviZ DataTree in ArviZ's conventions: `posterior` (theta sites with dims
    `neuron`, `input_dim`, ...; `phi` over `point`, the points as its coordinate in d = 1;
    `S_int_value`), `sample_stats` (diverging, acceptance_rate, n_steps, energy, lp, step_size,
    tree_depth), `constant_data` (x, and the quadrature points and weights when recorded), the
    architecture's parameters, the run's settings and the library version in attrs."""
    from arviz_base import from_dict

    x = np.asarray(run.x)
    width = int(run.meta.get("arch_width", -1))
    dims = {"phi": [C.POINT]}
    for k, v in run.samples.items():
        if k != "phi" and np.ndim(v) > 2:
            dims[k] = site_dims(k, tuple(np.shape(v))[2:], width, x.shape[1])
    const = {"x": x}
    cdims = {"x": [C.POINT, C.INPUT_DIM]}
    coords = C.point_coords(x)
    if "quadrature_nodes" in run.meta:
        const["quadrature_nodes"] = np.asarray(run.meta["quadrature_nodes"])
        const["quadrature_weights"] = np.asarray(run.meta["quadrature_weights"])
        cdims.update(quadrature_nodes=["quad_point", C.INPUT_DIM], quadrature_weights=["quad_point"])
    attrs = {k: C.netcdf_attr(v) for k, v in run.meta.items() if k not in const}
    dt = from_dict(
        {"posterior": dict(run.samples), "sample_stats": sample_stats(run), "constant_data": const},
        dims={**dims, **cdims},
        coords=coords,
    )
    dt.attrs.update({**attrs, **C.version_attrs()})
    return dt


def diagnose(dt, var_names=GATE_VARS, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN) -> Diagnostics:
    """Rank-normalised R-hat and bulk/tail ESS (arviz_stats) over `var_names`, and the divergence
    count; a flag for every threshold crossed."""
    import arviz_stats as azs

    post = dt["posterior"]
    # a variable that is constant in every draw (e.g. S_int at lam = 0) has no R-hat/ESS to check
    names = [v for v in var_names if v in post.data_vars and float(np.ptp(np.asarray(post[v]))) > 0]
    if not names:
        raise NNFTError(f"var_names: none of {list(var_names)} is a non-constant posterior variable")
    rh = azs.rhat(dt, var_names=names, method="rank")
    eb = azs.ess(dt, var_names=names, method="bulk")
    et = azs.ess(dt, var_names=names, method="tail", prob=0.05)

    def worst(ds, fn):
        return float(fn([fn(np.asarray(ds[v])) for v in names]))

    r, b, t = worst(rh, np.max), worst(eb, np.min), worst(et, np.min)
    div = int(np.asarray(dt["sample_stats"]["diverging"]).sum()) if "diverging" in dt["sample_stats"] else 0
    n = int(post.sizes["chain"] * post.sizes["draw"])
    flags = []
    if not np.isfinite(r) or r > rhat_max:
        flags.append(f"R-hat {r:.4f} > {rhat_max}")
    if not b >= ess_min:
        flags.append(f"bulk ESS {b:.0f} < {ess_min:.0f}")
    if not t >= ess_min:
        flags.append(f"tail ESS {t:.0f} < {ess_min:.0f}")
    if div > 0:
        flags.append(f"{div} divergent transitions")
    return Diagnostics(r, b, t, div, n, tuple(flags))


def attach(dt, diag: Diagnostics):
    """Record the diagnostics in the DataTree's root attrs (returns the tree)."""
    dt.attrs.update(diag.as_attrs())
    return dt


def report(diag: Diagnostics, title: str = "Sampler diagnostics") -> str:
    """A short Markdown report; failed checks are listed as warnings."""
    lines = [
        f"### {title}",
        "",
        "| check | value | threshold |",
        "|---|---|---|",
        f"| max rank-normalised R-hat | {diag.rhat_max:.4f} | <= {RHAT_MAX} |",
        f"| min bulk ESS | {diag.ess_bulk_min:.0f} | >= {ESS_MIN:.0f} |",
        f"| min tail ESS | {diag.ess_tail_min:.0f} | >= {ESS_MIN:.0f} |",
        f"| divergences | {diag.divergences} | 0 |",
        "",
        "**OK**" if diag.ok else "**WARNING: " + "; ".join(diag.flags) + "**",
    ]
    return "\n".join(lines)


def save(dt, path) -> None:
    """Write the DataTree as netCDF (attrs made netCDF-safe)."""
    for node in dt.subtree:
        node.attrs = {
            k: (json.dumps(v) if isinstance(v, (list, dict, tuple, bool)) else v) for k, v in node.attrs.items()
        }
    dt.to_netcdf(path)
