"""The predictive study written out: a DataTree of the predictives, plots and Markdown lines."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import _conventions as C
from .._errors import NNFTError
from ._compare import Z90
from ._predictive import Predictive
from ._predictive_study import LIMITS, PredictiveStudy


def _group(study: PredictiveStudy, p: Predictive, method: str, width: int) -> xr.Dataset:
    g, h = study.grid, study.heldout
    ds = xr.Dataset(
        {
            "mean": ("test_point", p.mean[g]),
            "mean_se": ("test_point", p.mean_se()[g]),
            "var_f": ("test_point", p.var_f[g]),
            "var_y": ("test_point", p.var_y[g]),
            "heldout_mean": ("heldout_point", p.mean[h]),
            "heldout_var_y": ("heldout_point", p.var_y[h]),
        },
        coords={"test_point": C.point_values(study.x_grid), "heldout_point": C.point_values(study.x_heldout)},
        attrs={
            "method": method,
            "width": int(width),
            "exact": int(p.exact),
            "n_batches": p.n_batches,
            "khat_var": p.khat(),
        },
    )
    if method == "ensemble":
        ds["f"] = (("network", "test_point"), p.cm.reshape(-1, p.cm.shape[-1])[:, g])
        ds["train_loss"] = ("network", study.train_loss[width][: ds.sizes["network"]])
    return ds


def study_tree(study: PredictiveStudy, distances: xr.Dataset, elpd: xr.Dataset, attrs: dict) -> xr.DataTree:
    """One group per predictive (`nngp`, `ntk_gp`, `ensemble_N<w>`, `bnn_N<w>`: mean, its Monte Carlo
    SE, var of f and of y on the grid, the held-out moments; the ensembles' members `f`), `distances`,
    `heldout_elpd`, `observed_data` (y_train, y_heldout) and `constant_data` (x_train, x_grid,
    x_heldout); `attrs` (architecture, data, schedule) on the root."""
    groups = {
        "nngp": _group(study, study.limits["NNGP"], "NNGP", 0),
        "ntk_gp": _group(study, study.limits["NTK-GP"], "NTK-GP", 0),
    }
    groups.update({f"ensemble_N{w}": _group(study, p, "ensemble", w) for w, p in study.ensembles.items()})
    groups.update({f"bnn_N{w}": _group(study, p, "BNN", w) for w, p in study.bnns.items()})
    groups["distances"] = distances
    groups["heldout_elpd"] = elpd
    groups["observed_data"] = xr.Dataset(
        {"y_train": ("train_point", study.y_train), "y_heldout": ("heldout_point", study.y_heldout)},
        coords={"heldout_point": C.point_values(study.x_heldout)},
    )
    groups["constant_data"] = xr.Dataset(
        {
            "x_train": (("train_point", C.INPUT_DIM), study.x_train),
            "x_test": (("test_point", C.INPUT_DIM), study.x_grid),
            "x_heldout": (("heldout_point", C.INPUT_DIM), study.x_heldout),
        },
        coords={"test_point": C.point_values(study.x_grid), "heldout_point": C.point_values(study.x_heldout)},
    )
    tree = xr.DataTree.from_dict({f"/{k}": v for k, v in groups.items()})
    tree.attrs.update(
        {
            **{k: C.netcdf_attr(v) for k, v in attrs.items()},
            "noise": study.noise,
            "time": study.time,
            "learning_rate": study.learning_rate,
            "time_unit": "learning_rate x steps; loss 0.5 * sum of squared residuals",
            "parametrization": "ntk",
        }
    )
    return tree


def plot_predictives(study: PredictiveStudy, width: int | None = None, *, ax: Axes | None = None) -> Figure:
    """Mean and 90% band of y for the four predictives (the finite-width ones at `width`, default each
    at its largest width), the training and held-out data; returns the Figure."""
    if ax is None:
        fig = Figure(figsize=(7, 4.2), layout="constrained")
        ax = fig.subplots()
    fig = ax.figure
    x = study.x_grid[:, 0]
    top = {
        m: width if width is not None else max(d, default=None)
        for m, d in (("BNN", study.bnns), ("ensemble", study.ensembles))
    }
    runs = [("NNGP", None, "0.3", "--"), ("NTK-GP", None, "C0", "--"), ("BNN", top["BNN"], "C1", "-")]
    runs.append(("ensemble", top["ensemble"], "C2", "-"))
    for method, w, col, ls in runs:
        p = study.predictive(method, w)
        if p is None:
            continue
        m, half = p.mean[study.grid], Z90 * np.sqrt(p.var_y[study.grid])
        lab = method if w is None else f"{method} N={w}"
        ax.fill_between(x, m - half, m + half, color=col, alpha=0.12, lw=0)
        ax.plot(x, m, color=col, ls=ls, lw=1.5, label=f"{lab}: mean, 90% band of y")
    ax.scatter(study.x_train[:, 0], study.y_train, s=10, color="k", zorder=3, label="training data")
    ax.scatter(study.x_heldout[:, 0], study.y_heldout, s=14, marker="x", color="C3", zorder=3, label="held out")
    ax.set(xlabel="x (standardised)", ylabel="y")
    ax.set_title(f"{study.arch.name}: four predictives (training time t = {study.time:.3g})", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def plot_distances(distances: xr.Dataset, fits: dict | None = None, *, ax: Axes | None = None) -> Figure:
    """W2 of each finite-width predictive to its infinite-width limit against width (log-log, with
    SEs; unresolved values open), with the fitted power laws in `fits` (pair -> `distance_scaling`)
    and the distance between the two limits as a line; returns the Figure."""
    if ax is None:
        fig = Figure(figsize=(5.5, 4), layout="constrained")
        ax = fig.subplots()
    elif not isinstance(ax, Axes):
        raise NNFTError(f"ax: expected a matplotlib Axes, got {type(ax).__name__}")
    fig = ax.figure
    for i, (fin, lim) in enumerate(LIMITS.items()):
        d = distances.sel(pair=next(p for p in distances.pair.values if set(p.split(" vs ")) == {fin, lim}))
        ok = np.isfinite(d.w2.values)
        if not ok.any():
            continue
        w, v, e, res = d.width.values[ok], d.w2.values[ok], d.w2_se.values[ok], d.resolved.values[ok] > 0
        col = f"C{i + 1}"
        ax.errorbar(w[res], v[res], e[res], fmt="o", color=col, label=f"{fin} N to {lim}")
        if (~res).any():
            ax.errorbar(w[~res], np.maximum(v[~res], e[~res]), e[~res], fmt="o", mfc="none", color=col)
        f = (fits or {}).get(str(d.pair.values))
        if f and f.get("fit") == "ok":
            ws = np.geomspace(w.min(), w.max(), 20)
            lab = f"slope {f['slope']:.2f} ± {f['slope_se']:.2f}"
            ax.plot(ws, f["fit_amplitude"] * ws ** f["slope"], color=col, lw=1, label=lab)
    gap = distances.sel(pair="NNGP vs NTK-GP").w2.values
    if np.isfinite(gap).any():
        ax.axhline(float(np.nanmax(gap)), color="0.4", ls=":", label="NNGP to NTK-GP")
    ax.set(xscale="log", yscale="log", xlabel="width N", ylabel="W2 of the predictives of y")
    ax.legend(fontsize=7)
    return fig
