"""The phi4 recipe's report section and plot for the lam^2 growth of the deviation from first order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._lamfit import DeviationFit
from ._plotting import no_minor_labels, pyplot, save
from ._schwinger_dyson import Phi2Response


def lam2_section(fit: DeviationFit, resp: list[Phi2Response]) -> list[str]:
    """The report's lam^2 section: the fit, its verdicts and the per-lam Schwinger-Dyson estimates."""
    names = "abc"
    pairs = enumerate(zip(fit.coef, fit.coef_se, strict=True))
    coef = [f"{names[k]} = {c:+.5f} ± {e:.5f} ({c / e:+.1f} SE)" for k, (c, e) in pairs]
    lines = [
        "## Deviation from first order grows like lam^2",
        "",
        "Observable: the point-averaged <phi^2> by the Schwinger-Dyson estimator (readout integrated out; its",
        "SE is several times smaller than the plain average's, shown for comparison), and its lam-derivative",
        "-Cov(Z, S_int/lam) + <dZ/dlam>. Reference: the exact free value (NNGP kernel) plus the first-order shift",
        "exact at finite width (the diagram plus its O(lam/N) vertex corrections).",
        "dev(lam) = <phi^2>_lam - <phi^2>_0 - first order, fitted by generalised least squares (values and",
        "derivatives, 2x2 covariance per run) as "
        + " + ".join(f"{names[k]} lam^{k + 1}" if k else "a lam" for k in range(len(fit.coef))),
        "",
        "| lam | <phi^2> (SD) | SE | plain | SE | first order | dev / SE | dev / first-order shift | "
        "d<phi^2>/dlam | SE | first-order slope |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for q, d, s, sh in zip(resp, fit.deviation, fit.se, fit.first_order_shift, strict=True):
        lines.append(
            f"| {q.lam:g} | {q.value:.5f} | {q.se:.5f} | {q.plain:.4f} | {q.plain_se:.4f} | {q.value - d:.5f} | "
            f"{d / s:+.1f} | {d / abs(sh):+.1%} | {q.slope:+.4f} | {q.slope_se:.4f} | {sh / q.lam:+.4f} |"
        )
    ok_a = abs(fit.z[0]) < 4.0
    ok_b = fit.z[1] > 4.0
    cubic = "; the cubic term is negative (the series is asymptotic)" if len(fit.coef) > 2 and fit.coef[2] < 0 else ""
    resolved = ", ".join(f"{v:g}" for v in fit.slope_lams)
    brk = "never" if fit.breakdown_lam is None else f"lam = {fit.breakdown_lam:g}"
    brk_rel = "never" if fit.breakdown_rel_lam is None else f"lam = {fit.breakdown_rel_lam:g}"
    lines += [
        "",
        "Fit: " + "; ".join(coef) + f"; chi^2/dof = {fit.chi2:.1f}/{fit.dof} (p = {fit.p_value:.3f}).",
        "",
        f"- First order is right: a is {'consistent with 0 (< 4 SE)' if ok_a else 'NOT consistent with 0'}.",
        f"- The deviation grows like lam^2: b is {'resolved (> 4 SE)' if ok_b else 'not resolved (< 4 SE)'}{cubic}.",
        f"- Log-log slope of |dev| over the lams where it is resolved (> 2 SE; {resolved}):"
        f" {fit.slope:.2f} ± {fit.slope_se:.2f} (second order alone: 2; the cubic term bends it down).",
        f"- First order stops being good: |dev| > 3 SE from {brk}; |dev| > {fit.rel:.0%} of the first-order shift from "
        f"{brk_rel} (point estimates); the fitted b lam^2 reaches {fit.rel:.0%} of it at lam = "
        f"{fit.rel_lam_fit:.3f} ± {fit.rel_lam_fit_se:.3f}.",
        "",
        "![deviation from first order](deviation_fit.png)",
    ]
    return lines


def plot_lam2(fit: DeviationFit, out: Path | None = None, axs=None):
    """The fitted deviation from first order, linear and log-log; returns the Figure (saved as
    `out/deviation_fit.png` when `out` is given). `axs`: two axes to draw on."""
    lam = fit.lams
    order = np.argsort(lam)
    grid = np.geomspace(lam.min() * 0.8, lam.max() * 1.2, 100)
    pred, band = fit.predict(grid), fit.predict_se(grid)
    if axs is None:
        axs = pyplot().figure(figsize=(10, 3.8)).subplots(1, 2)
    fig = axs[0].figure
    for ax, log in zip(axs, (False, True), strict=True):
        ax.errorbar(lam[order], fit.deviation[order], fit.se[order], fmt="o", label="NUTS (SD estimator, ±1 SE)")
        terms = " + ".join(f"{'abc'[k]}λ^{k + 1}" if k else "aλ" for k in range(len(fit.coef)))
        ax.plot(grid, pred, "-", label="fit " + terms)
        ax.fill_between(grid, pred - band, pred + band, alpha=0.25, label="fit ±1 SE")
        ax.plot(grid, fit.coef[1] * grid**2, "--", label="b λ^2 alone")
        ax.set(xlabel="λ", ylabel="<φ²> - free - first order")
        if log:
            ax.set(xscale="log", yscale="log", title=f"log-log slope {fit.slope:.2f} ± {fit.slope_se:.2f}")
            no_minor_labels(ax)
        else:
            ax.axhline(0.0, color="k", lw=0.6)
            ax.set(title=f"b = {fit.coef[1]:.4f} ± {fit.coef_se[1]:.4f}")
        ax.legend(fontsize=7)
    if out is not None:
        save(fig, Path(out) / "deviation_fit.png")
    return fig
