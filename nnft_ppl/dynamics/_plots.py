"""Plots of training dynamics: G_t against t with the lazy-theory band; NTK drift against width."""

from __future__ import annotations

import numpy as np


def plot_g_t(tree, ax=None):
    """Per point: the ensemble mean G1_t and variance G2c_t(x, x) (error bars: 2 SE) against t, with the
    lazy theory's mean, its band mean +- one ensemble standard deviation, and its variance; and G4c_t(x,x,x,x).
    Returns the Figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    fig = np.atleast_1d(ax)[0].figure
    c, th = tree["correlators"], tree.children.get("theory")
    t = c.time.values
    p = c.sizes["point_1"]
    for i in range(p):
        col = f"C{i}"
        g1, se1 = c.G1.values[:, i], c.G1_se.values[:, i]
        var, sev = c.G2c.values[:, i, i], c.G2c_se.values[:, i, i]
        ax[0].errorbar(t, g1, 2 * se1, fmt="o", color=col, ms=3, label=f"point {i}")
        ax[1].errorbar(t, var, 2 * sev, fmt="o", color=col, ms=3)
        g4, se4 = c.G4c.values[:, i, i, i, i], c.G4c_se.values[:, i, i, i, i]
        ax[2].errorbar(t, g4, 2 * se4, fmt="o", color=col, ms=3)
        if th is not None:
            m, v = th["mean"].values[:, i], th["cov"].values[:, i, i]
            ax[0].plot(t, m, color=col)
            ax[0].fill_between(t, m - np.sqrt(v), m + np.sqrt(v), color=col, alpha=0.15)
            ax[1].plot(t, v, color=col)
    ax[2].axhline(0.0, color="k", lw=0.8)
    ax[0].set(xlabel="t = learning rate x steps", ylabel="G1_t(x) (band: lazy mean +- sd)")
    ax[1].set(xlabel="t", ylabel="G2c_t(x, x) (line: lazy theory)")
    ax[2].set(xlabel="t", ylabel="G4c_t(x, x, x, x) (lazy: 0)")
    ax[0].legend(fontsize=8)
    fig.suptitle(
        f"{tree.attrs['architecture']} width {tree.attrs.get('arch_width')}, "
        f"{tree.attrs['parametrization']}, {tree.attrs['optimizer']}: 2-SE error bars"
    )
    fig.tight_layout()
    return fig


def plot_drift(ds, ax=None):
    """Relative NTK drift against width (log-log, 2-SE error bars) for each parametrisation, with the fitted
    power law and its slope +- SE in the legend. Returns the Figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    w = ds.width.values
    for i, par in enumerate(ds.parametrization.values):
        d, se = ds.drift.values[i], ds.drift_se.values[i]
        s, sse, c = (ds.attrs[f"{k}_{par}"] for k in ("slope", "slope_se", "intercept"))
        ax.errorbar(w, d, 2 * se, fmt="o", color=f"C{i}")
        ax.plot(w, np.exp(c) * w**s, color=f"C{i}", label=f"{par}: slope {s:.2f} +- {sse:.2f}")
    ax.set(xscale="log", yscale="log", xlabel="width N", ylabel="|Theta_t - Theta_0| / |Theta_0|")
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure
