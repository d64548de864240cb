"""ArviZ DataTree output and the convergence gate (rank-normalised R-hat, bulk/tail ESS, divergences).

ArviZ is imported inside the functions, so the sampling modules stay usable without it.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

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


def to_datatree(run: DeformedRun):
    """The run as an ArviZ DataTree: `posterior` (theta sites, `phi` over `point`, `S_int_value`),
    `sample_stats` (diverging, acceptance_rate, n_steps, energy, lp, step_size), `constant_data` (x),
    metadata in attrs."""
    from arviz_base import from_dict

    post = dict(run.samples)
    dims = {"phi": ["point"]}
    for k, v in post.items():
        if k != "phi" and v.ndim > 2:
            dims[k] = [f"{k}_dim_{i}" for i in range(v.ndim - 2)]
    st = run.sample_stats
    rename = {
        "diverging": "diverging",
        "accept_prob": "acceptance_rate",
        "num_steps": "n_steps",
        "energy": "energy",
        "step_size": "step_size",
    }
    stats = {new: st[old] for old, new in rename.items() if old in st}
    if "potential_energy" in st:
        stats["lp"] = -st["potential_energy"]
    attrs = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in run.meta.items()}
    dt = from_dict(
        {"posterior": post, "sample_stats": stats, "constant_data": {"x": run.x}},
        dims={**dims, "x": ["point", "x_dim"]},
    )
    dt.attrs.update(attrs)
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
