"""The deform recipes' figures. Each plot function draws on `ax` (a new figure if `None`) and returns the Figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def pyplot():
    """`matplotlib.pyplot`, imported on use (the backend is the user's, or `MPLBACKEND`)."""
    import matplotlib.pyplot as plt

    return plt


def no_minor_labels(ax) -> None:
    """No tick labels on the minor ticks of a log x axis."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def axes(ax, figsize=(5, 3.5)):
    """`(figure, ax)`: `ax`'s figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = pyplot().figure(figsize=figsize)
    return fig, fig.add_subplot()


def save(fig, path: Path) -> Path:
    """Write `fig` to `path` (PNG) and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def plot_phi2_shift(rows: list[dict], ax=None):
    """NUTS shift of the point-averaged <phi^2> from the free value against lam, with first order."""
    fig, ax = axes(ax)
    lam = np.array([r["lam"] for r in rows])
    shift, se2 = [r["phi2"] - r["free"] for r in rows], [2 * r["phi2_se"] for r in rows]
    ax.errorbar(lam, shift, se2, fmt="o", label="NUTS (±2 SE)")
    kind = rows[0].get("first_order_kind", "diagram")
    ax.plot(lam, [r["first_order"] - r["free"] for r in rows], "-", label=f"first order ({kind})")
    ax.set(xscale="log", xlabel="λ", ylabel="shift of point-averaged <φ²>", title="<φ²> against first order")
    ax.legend(fontsize=8)
    no_minor_labels(ax)
    return fig


def plot_deviation(rows: list[dict], rw_pair: list[dict], ax=None):
    """|NUTS - first order| and the paired-reweighting deviation against lam (log-log)."""
    fig, ax = axes(ax)
    lam = np.array([r["lam"] for r in rows])
    dev = np.abs([(r["phi2"] - r["free"]) - (r["first_order"] - r["free"]) for r in rows])
    ax.errorbar(lam, dev, [r["phi2_se"] for r in rows], fmt="o", label="|NUTS - first order| (±1 SE)")
    q_lam = [q["lam"] for q in rw_pair]
    q_dev = [abs(q["deviation"]) for q in rw_pair]
    ax.errorbar(q_lam, q_dev, [q["phi2_shift_se"] for q in rw_pair], fmt="s", mfc="none", label="paired reweighting")
    ax.set(xscale="log", yscale="log", xlabel="λ", ylabel="deviation from first order", title="beyond first order")
    ax.legend(fontsize=8)
    no_minor_labels(ax)
    return fig


def plot_g4c(rows: list[dict], ax=None):
    """Measured G4c shift against the first-order diagram, one colour per lam."""
    fig, ax = axes(ax, (4.5, 4))
    for r in rows:
        m, p, s = r["g4c_measured"].ravel(), r["g4c_first_order"].ravel(), r["g4c_se"].ravel()
        ax.errorbar(p, m, s, fmt=".", alpha=0.6, label=f"λ={r['lam']:g}")
    lo = min(np.min(r["g4c_first_order"]) for r in rows)
    ax.plot([lo, 0], [lo, 0], "k-", lw=0.8, label="equality")
    ax.set(xlabel="first order -λ ∫ GGGG", ylabel="NUTS G4c - exact base G4c", title="connected 4-point (±1 SE)")
    ax.legend(fontsize=7)
    return fig


def plot_ess_rate(all_rows: list[dict], rw: list[dict], rw_lams, ax=None):
    """Effective samples per second: importance reweighting (Kish) against NUTS."""
    fig, ax = axes(ax)
    ax.plot(rw_lams, [r["ess_per_s"] for r in rw], "s-", label="reweighting (Kish ESS/s)")
    ax.plot(
        [r["lam"] for r in all_rows], [r["ess_per_s"] for r in all_rows], "o-", label="NUTS (ESS/s, compile in 1st)"
    )
    ax.set(xscale="log", yscale="log", xlabel="λ", ylabel="effective samples per second", title="sampler cost")
    ax.legend(fontsize=8)
    no_minor_labels(ax)
    return fig


def plot_double_well(phi_mean, vacua, land: dict, a: int, b: int, axs=None):
    """Per-chain traces of the point-averaged phi, its histogram, and the action along the path a -> b."""
    if axs is None:
        fig = pyplot().figure(figsize=(12, 3.5))
        axs = fig.subplots(1, 3)
    fig = axs[0].figure
    for c in range(phi_mean.shape[0]):
        axs[0].plot(phi_mean[c], lw=0.6)
    for s in vacua:
        axs[0].axhline(s, color="k", ls=":", lw=0.8)
    axs[0].set(xlabel="draw", ylabel="point-averaged φ", title="chains settle in vacua")
    axs[1].hist(phi_mean.ravel(), bins=60)
    axs[1].set(xlabel="point-averaged φ", ylabel="draws", title="two vacua")
    axs[2].plot(land["t"], land["total"] - land["total"][0], label="-log P_λ (total action)")
    axs[2].plot(land["t"], land["s_int"] - land["s_int"][0], label="S_int")
    axs[2].set(xlabel=f"t (chain {a} -> chain {b})", ylabel="relative to t = 0", title="action along the path")
    axs[2].legend(fontsize=8)
    return fig


def plot_deformation_report(rows, all_rows, rw, rw_lams, rw_pair) -> list[tuple[str, object]]:
    """The phi4 report's figures as (file name, Figure)."""
    return [
        ("dG2_vs_lam.png", plot_phi2_shift(rows)),
        ("deviation_lam2.png", plot_deviation(rows, rw_pair)),
        ("g4c_first_order.png", plot_g4c(rows)),
        ("ess_per_second.png", plot_ess_rate(all_rows, rw, rw_lams)),
    ]
