"""Plots for the width-scaling report. Every function returns its Figure and accepts `ax=`
(a pre-made Axes, or a sequence of them); figures are built without pyplot's global state.

Entries whose summands are heavy-tailed are drawn hollow: k-hat in (0.5, 0.7] (error bar
unreliable) as hollow markers, k-hat > 0.7 (value unreliable) as hollow grey crosses.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._verdicts import KHAT_ORDER, khat_masks

LABELS = {
    "d4": r"$\delta_4$ (4-pt vs GP)",
    "d6": r"$\delta_6$ (6-pt vs GP)",
    "d6m": r"$\delta_6 - \delta_{6c}$ (1/N part of the 6-pt)",
    "d6c": r"$\delta_{6c}$ (connected 6-pt)",
}


def _axes(ax, n: int, figsize) -> tuple[Figure, list[Axes]]:
    """The given axes (one or a sequence of n), or a new figure with n panels in a row."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, list(np.atleast_1d(fig.subplots(1, n, squeeze=False)[0]))
    axes = [ax] if isinstance(ax, Axes) else list(np.ravel(ax))
    if len(axes) != n:
        from .._errors import NNFTError

        raise NNFTError(f"ax: need {n} axes, got {len(axes)}")
    return axes[0].figure, axes


def plot_g2(results: dict[str, xr.Dataset], path=None, *, ax=None) -> Figure:
    """Monte Carlo G2 minus the NNGP kernel, in units of its SE, for every width and pair.

    One panel per architecture; pairs (i <= j) along x, each width offset within its pair
    so no two error bars overlap; the band is the Bonferroni threshold. Widths whose G2
    summands have k-hat > 0.5 are hollow.
    """
    fig, axes = _axes(ax, len(results), (6.0 * len(results), 4.0))
    for a, (name, ds) in zip(axes, results.items(), strict=True):
        k = ds.kernel.values
        iu = np.triu_indices(k.shape[0])
        n_w = ds.width.size
        offs = np.linspace(-0.35, 0.35, n_w)
        kh = ds.G2_khat.values if "G2_khat" in ds else np.zeros(n_w)
        for j, w in enumerate(ds.width.values):
            g, e = ds.G2.sel(width=w).values[iu], ds.G2_se.sel(width=w).values[iu]
            z = (g - k[iu]) / e
            c = f"C{j % 10}"
            face = c if kh[j] <= 0.5 else "none"
            a.errorbar(
                np.arange(iu[0].size) + offs[j], z, yerr=1.0, fmt="o", ms=3, color=c, mfc=face, lw=0.8, label=f"N={w}"
            )
        thr = float(ds.attrs["g2_threshold"])
        a.axhspan(-thr, thr, color="0.9", zorder=0, label=f"±{thr:.2f} (Bonferroni 4 SE)")
        a.axhline(0.0, color="k", lw=0.8)
        a.set_xticks(np.arange(iu[0].size), [f"{i}{j}" for i, j in zip(*iu, strict=True)], fontsize=7)
        a.ticklabel_format(axis="y", useOffset=False)
        a.set_xlabel("point pair (i, j)")
        a.set_ylabel(r"$(G_2^{MC} - K) / \mathrm{SE}$")
        a.set_title(f"{name}: max |z| = {float(ds.G2_max_abs_z.max()):.2f} (z has unit SE)", fontsize=9)
    axes[-1].legend(fontsize=6, ncol=2, loc="upper right")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _draw_data(a: Axes, ds: xr.Dataset, v: str) -> None:
    w = ds.width.values
    val, se = ds[v].values, ds[v + "_se"].values
    fit_ok, verdict_ok = khat_masks(ds, v)
    above = np.abs(val) >= 3 * se
    groups = (
        (above & verdict_ok, dict(fmt="o", color="C0", label="networks (k ≤ 0.5)")),
        (above & fit_ok & ~verdict_ok, dict(fmt="o", color="C0", mfc="none", label="k in (0.5, 0.7]: SE unreliable")),
        (~fit_ok, dict(fmt="x", color="0.5", label="k > 0.7: value unreliable")),
    )
    for m, kw in groups:
        if m.any():
            a.errorbar(w[m], np.abs(val[m]), yerr=se[m], ms=4, **kw)
    floor = ~above & fit_ok
    if floor.any():
        a.errorbar(w[floor], 3 * se[floor], fmt="v", ms=4, color="gray", label="floor (3 SE)")


def plot_scaling(name: str, ds: xr.Dataset, fits: dict, path=None, *, ax=None) -> Figure:
    """|delta| against width on log-log axes: data (hollow where k-hat flags them), fitted
    power law, the exact 1/N theory and the neuron-level band (±2 SE), one panel per observable."""
    fig, axes = _axes(ax, len(LABELS), (18, 4.2))
    w = ds.width.values
    for a, v in zip(axes, LABELS, strict=True):
        _draw_data(a, ds, v)
        if v + "_exact" in ds:
            a.plot(w, np.abs(ds[v + "_exact"].values), "k--", lw=1, label="exact 1/N theory")
        if v + "_neuron" in ds:
            nv, ns = ds[v + "_neuron"].values, ds[v + "_neuron_se"].values
            a.fill_between(
                w, np.abs(nv) - 2 * ns, np.abs(nv) + 2 * ns, color="C2", alpha=0.3, label="neuron level ±2 SE"
            )
            a.plot(w, np.abs(nv), color="C2", lw=0.8)
        f = fits.get(v, {})
        title = LABELS[v]
        if "slope" in f:
            ww = np.asarray(f["widths_used"], float)
            a.plot(ww, f["fit"].predict(ww), "C1-", label=f"fit: slope {f['slope']:.2f} ± {f['slope_se']:.2f}")
        if f.get("amp_n"):
            title += f"\namplitude χ²/dof = {f['amp_chi2']:.1f}/{f['amp_n']} (k ≤ 0.5 widths)"
        if "verdict" in f:
            title += f"\n{f['verdict']}"
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("width N")
        a.set_ylabel(f"|{v}|")
        a.set_title(title, fontsize=9)
        a.legend(fontsize=6)
    fig.suptitle(
        f"{name}: deviation from the GP against width (expected slopes -1, -1, -1, -2; "
        f"k-hat orders {sorted(set(KHAT_ORDER.values()))})"
    )
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
