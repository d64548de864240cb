"""Plots for the width-scaling report (matplotlib, Agg)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

LABELS = {
    "d4": r"$\delta_4$ (4-pt vs GP)",
    "d6": r"$\delta_6$ (6-pt vs GP)",
    "d6m": r"$\delta_6 - \delta_{6c}$ (1/N part of the 6-pt)",
    "d6c": r"$\delta_{6c}$ (connected 6-pt)",
}


def plot_g2(results: dict[str, xr.Dataset], path) -> None:
    """Monte Carlo G2 (every width, with errors) against the NNGP kernel, one panel per architecture."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.8), squeeze=False)
    for ax, (name, ds) in zip(axes[0], results.items(), strict=True):
        k = ds.kernel.values
        iu = np.triu_indices(k.shape[0])
        for w in ds.width.values:
            g, e = ds.G2.sel(width=w).values[iu], ds.G2_se.sel(width=w).values[iu]
            ax.errorbar(k[iu], g - k[iu], yerr=e, fmt=".", ms=3, alpha=0.6, label=f"N={w}")
        ax.axhline(0.0, color="k", lw=1)
        ax.set_xlabel(r"kernel $K(x_i, x_j)$")
        ax.set_ylabel(r"$G_2^{MC} - K$")
        ax.set_title(f"{name}: max |z| = {float(ds.G2_max_abs_z.max()):.2f}")
    axes[0][-1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_scaling(name: str, ds: xr.Dataset, fits: dict, path) -> None:
    """|delta| against width on log-log axes: data, fitted power law, exact and neuron-level lines."""
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.9))
    w = ds.width.values
    for ax, v in zip(axes, LABELS, strict=True):
        val, se = ds[v].values, ds[v + "_se"].values
        above = np.abs(val) >= 3 * se
        ax.errorbar(w[above], np.abs(val[above]), yerr=se[above], fmt="o", ms=4, label="networks")
        ax.errorbar(w[~above], 3 * se[~above], fmt="v", ms=4, color="gray", label="floor (3 SE)")
        if v + "_exact" in ds:
            ax.plot(w, np.abs(ds[v + "_exact"].values), "k--", lw=1, label="exact 1/N theory")
        if v + "_neuron" in ds:
            nv, ns = ds[v + "_neuron"].values, ds[v + "_neuron_se"].values
            ax.fill_between(w, np.abs(nv) - 2 * ns, np.abs(nv) + 2 * ns, color="C2", alpha=0.3, label="neuron level")
        f = fits.get(v, {})
        if "slope" in f:
            ww = np.asarray(f["widths_used"], float)
            ax.plot(ww, f["fit"].predict(ww), "C1-", label=f"fit slope {f['slope']:.2f}±{f['slope_se']:.2f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("width N")
        ax.set_title(LABELS[v])
        ax.legend(fontsize=7)
    fig.suptitle(f"{name}: deviation from the GP against width (expected slopes -1, -1, -1, -2)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
