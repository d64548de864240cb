"""The symmetry report: one table per ensemble (a row per symmetry or axiom) plus plots.

`run_ensemble(spec)` builds an ensemble from a recipe entry and runs every test that
applies to it; `report_tree(tree)` runs the data-only tests on a stored results file;
`write_report` renders Markdown tables and PNG plots (cluster decay, RP spectrum).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import xarray as xr

from .._errors import NNFTError
from ..architectures import REGISTRY, make_architecture
from ._arviz import attach_results
from ._core import DEFAULT_ALPHA, SymmetryResult
from ._data import as_fields, prior_ensemble
from ._deformed import deformed_ensemble
from ._models import FreeCosNet, VectorGaussNet
from .invariance import internal_so_test, permutation_test, random_rotations, rotation_test, translation_test, z2_test
from .os_axioms import (
    cluster_ensemble,
    cluster_test,
    reflect,
    reflection_ensemble,
    reflection_positivity_kernel,
    reflection_positivity_test,
)
from .power import power_markdown, power_table, smallest_detected

EXTRA_MODELS = {"VectorGaussNet": VectorGaussNet, "FreeCosNet": FreeCosNet}


def build_model(architecture: str, params: dict | None = None):
    """A zoo architecture or one of this package's extra models, by name."""
    params = dict(params or {})
    if architecture in EXTRA_MODELS:
        return EXTRA_MODELS[architecture](**params)
    if architecture not in REGISTRY:
        raise NNFTError(f"architecture: unknown {architecture!r}; known: {sorted(REGISTRY) + sorted(EXTRA_MODELS)}")
    return make_architecture(architecture, **params)


def default_points(d: int, n_points: int = 3, seed: int = 0) -> np.ndarray:
    """Fixed points with positive Euclidean time x_0 in [0.2, 1.4]."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.6, 0.6, (n_points, d))
    x[:, 0] = np.linspace(0.2, 1.4, n_points)
    return x


def run_ensemble(spec: dict, alpha: float = DEFAULT_ALPHA) -> tuple[xr.DataTree, list[SymmetryResult]]:
    """Build the ensemble of one recipe entry and run every applicable test; results are attached."""
    for k in ("name", "architecture", "n"):
        if k not in spec:
            raise NNFTError(f"ensemble: missing key {k!r}")
    model = build_model(spec["architecture"], spec.get("params"))
    n = int(spec["n"])
    key = jax.random.PRNGKey(int(spec.get("key", 0)))
    ks = jax.random.split(key, 8)
    d = model.d
    x = default_points(d, int(spec.get("n_points", 3)))
    deform = spec.get("deform")
    results: list[SymmetryResult] = []
    if deform:
        tree = deformed_ensemble(model, x, n, ks[0], float(deform.get("g3", 0)), float(deform.get("g4", 0.1)))
    else:
        tree = prior_ensemble(model, x, n, ks[0])
    f = as_fields(tree)
    if f.n_out == 1:
        results.append(z2_test(tree, alpha=alpha))
    else:
        results.append(internal_so_test(tree, ks[1], alpha=alpha))
    results.append(permutation_test(tree, alpha=alpha))
    if not deform:
        shifts = np.asarray(jax.random.normal(ks[2], (2, d)), np.float64)
        results.append(translation_test(model, x, shifts, n, ks[3], alpha=alpha))
        if d >= 2:
            results.append(rotation_test(model, x, random_rotations(ks[4], d, 2), n, ks[5], alpha=alpha))
        if f.n_out == 1:
            if hasattr(model, "nngp_kernel"):
                results.append(reflection_positivity_kernel(model.nngp_kernel, x, alpha=alpha))
            results.append(reflection_positivity_test(reflection_ensemble(model, x, n, ks[6]), alpha=alpha))
            pair = np.zeros((2, d))
            pair[1, -1] = 0.3
            r = np.asarray(spec.get("distances", [0.5, 1.0, 2.0, 4.0, 8.0]), np.float64)
            results.append(cluster_test(cluster_ensemble(model, pair, r, n, ks[7]), alpha=alpha))
    tree.attrs.update({"name": spec["name"], "architecture": spec["architecture"]})
    attach_results(tree, results)
    return tree, results


def report_tree(tree: xr.DataTree, key=None, alpha: float = DEFAULT_ALPHA, group: str = "posterior"):
    """Data-only tests on a stored results tree (Z2 or internal SO(D), permutation; RP/cluster if present)."""
    key = jax.random.PRNGKey(0) if key is None else key
    f = as_fields(tree, group=group)
    res = [z2_test(tree, alpha=alpha, group=group) if f.n_out == 1 else internal_so_test(tree, key, alpha=alpha)]
    res.append(permutation_test(tree, alpha=alpha, group=group))
    if f.phi_g is not None and f.n_out == 1:
        if f.x_g.shape[0] == 1 and np.allclose(f.x_g[0], reflect(f.x)):
            res.append(reflection_positivity_test(tree, alpha=alpha, group=group))
        elif f.phi.shape[2] == 2:
            res.append(cluster_test(tree, alpha=alpha, group=group))
    attach_results(tree, res)
    return tree, res


def table(results: list[SymmetryResult]) -> str:
    """A Markdown table: one row per test."""
    lines = [
        "| test | estimate (worst entry) | error | statistic | entries | p (Holm) | verdict | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        w = r.row()
        lines.append(
            f"| {w['test']} | {w['estimate']:.4g} | {w['se']:.3g} | {w['statistic']:.3g} | {w['n_tests']} | "
            f"{w['p_value']:.3g} | {w['verdict']} | {w['note']} |"
        )
    return "\n".join(lines)


def plot_result(res: SymmetryResult, path: Path) -> Path | None:
    """A PNG for rows where a picture says more (cluster decay curve, RP spectrum)."""
    ex = res.extra
    if "r" not in ex and "eigenvalues" not in ex:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    if "r" in ex:
        ax.errorbar(ex["r"], ex["g2c"], yerr=ex["g2c_se"], marker="o", label="G2c(r)")
        ax.errorbar(ex["r"], ex["c4"], yerr=ex["c4_se"], marker="s", label="G4(a,b) - G2(a)G2(b)")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("separation r")
        ax.legend(fontsize=7)
    else:
        ev = ex["eigenvalues"]
        ax.errorbar(np.arange(ev.size), ev, yerr=ex["eigenvalues_se"], fmt="o")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("eigenvalue index")
        ax.set_ylabel("eigenvalue of G2(theta x_i, x_j)")
    ax.set_title(f"{res.name} [{res.verdict}]", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_report(sections: dict[str, list[SymmetryResult]], out: Path, extra_md: str = "") -> Path:
    """summary.md with one table per ensemble, plots next to it; returns the summary path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md = ["# Symmetry report", "", "Family-wise tests, Holm-corrected over entries; verdict at the stated alpha.", ""]
    for name, results in sections.items():
        md += [f"## {name}", "", table(results), ""]
        for i, r in enumerate(results):
            p = plot_result(r, out / f"{name}_{i}.png")
            if p is not None:
                md.append(f"![{r.name}]({p.name})")
        md.append("")
    if extra_md:
        md += [extra_md, ""]
    path = out / "summary.md"
    path.write_text("\n".join(md))
    return path


def power_scan(spec: dict, alpha: float = DEFAULT_ALPHA) -> tuple[dict, str]:
    """Smallest last-layer mean `mu` of a VectorGaussNet that the internal SO(D) test flags at size n."""
    params = dict(spec.get("params", {}))
    n = int(spec.get("n", 1000))
    x = default_points(int(params.get("d", 1)), int(spec.get("n_points", 2)))
    key = jax.random.PRNGKey(int(spec.get("key", 0)))

    def run(mu):
        tree = prior_ensemble(VectorGaussNet(**{**params, "mu": mu}), x, n, key)
        return internal_so_test(tree, key, alpha=alpha)

    scan = smallest_detected(run, spec.get("mu", [0.0, 0.005, 0.01, 0.02, 0.05, 0.1]))
    md = (
        f"## Power: internal SO(D) vs last-layer mean (n = {n}, alpha = {alpha:.2g})\n\n"
        f"smallest flagged mu: {scan['smallest']}\n\n| mu | max abs z | p (Holm) | flagged |\n|---|---|---|---|\n"
        + "\n".join(
            f"| {m:g} | {s:.3g} | {p:.3g} | {fl} |"
            for m, s, p, fl in zip(scan["strengths"], scan["statistic"], scan["p_value"], scan["flagged"], strict=True)
        )
    )
    return scan, md


def power_table_report(spec: dict, alpha: float = DEFAULT_ALPHA) -> tuple[list[dict], str]:
    """Every test's breaking-strength scan (`power_table`) at the recipe's `table_n` and key, as Markdown."""
    n = spec.get("table_n")
    rows = power_table(None if n is None else int(n), jax.random.PRNGKey(int(spec.get("key", 0))), alpha)
    md = "## Power: smallest breaking each test flags\n\n" + power_markdown(rows)
    return rows, md
