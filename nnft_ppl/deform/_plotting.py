"""Matplotlib on the headless Agg backend, imported on use (the recipes' figures)."""

from __future__ import annotations


def pyplot():
    """`matplotlib.pyplot` on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def no_minor_labels(ax) -> None:
    """No tick labels on the minor ticks of a log x axis."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
