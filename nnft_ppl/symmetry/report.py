"""The symmetry report: one table per ensemble (a row per symmetry or axiom) plus plots.

`run_ensemble(spec)` builds an ensemble from a recipe entry and runs every registered test
(`register_symmetry_test`) that applies to it; `report_tree(tree)` runs the data-only ones on
a stored results file;
`write_report` renders Markdown tables and PNG plots (cluster decay, RP spectrum).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import jax
import numpy as np
import xarray as xr

from .._errors import NNFTError
from .._keys import as_key
from ..architectures import REGISTRY, make_architecture
from . import _checks  # noqa: F401  (registers the built-in tests)
from ._core import DEFAULT_ALPHA, SymmetryResult
from ._data import as_fields, default_group, model_attrs, prior_ensemble
from ._deformed import deformed_ensemble, from_g
from ._models import FieldSampler, VectorGaussNet
from ._registry import EnsembleContext, ensemble_key, run_applicable
from ._results import attach_results
from .invariance import internal_so_test
from .power import power_markdown, power_table, smallest_detected

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def extra_models() -> dict[str, type]:
    """The package's `FieldSampler` classes by name (models beyond the architecture zoo)."""
    return {c.__name__: c for c in FieldSampler.__subclasses__()}


#: the `FieldSampler` classes defined when the package loaded (`extra_models()` also sees later ones)
EXTRA_MODELS = extra_models()


def build_model(architecture: str, params: dict | None = None):
    """A zoo architecture or one of this package's `FieldSampler`s, by name."""
    params = dict(params or {})
    extra = extra_models()
    if architecture in extra:
        return extra[architecture](**params)
    if architecture not in REGISTRY:
        raise NNFTError(f"architecture: unknown {architecture!r}; known: {sorted(REGISTRY) + sorted(extra)}")
    return make_architecture(architecture, **params)


def default_points(d: int, n_points: int = 3, seed: int = 0) -> np.ndarray:
    """Fixed points with positive Euclidean time x_0 in [0.2, 1.4]."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.6, 0.6, (n_points, d))
    x[:, 0] = np.linspace(0.2, 1.4, n_points)
    return x


def deformation(table: dict):
    """The potential of a recipe's `deform` table: potential terms as in `nnft_ppl.deform.potential_from_spec`
    (e.g. {phi3 = 1.8, phi4 = 2.4}: V = 1.8 phi^3/3! + 2.4 phi^4/4!); the deprecated {g3, g4} still read."""
    from ..deform import potential_from_spec

    table = dict(table)
    if {"g3", "g4"} & set(table):
        if set(table) - {"g3", "g4"}:
            raise NNFTError(f"deform: mix of deprecated g3/g4 and potential terms {sorted(table)}")
        warnings.warn(
            "recipe deform = {g3, g4} is deprecated: write deform = {phi3 = 6 g3, phi4 = 24 g4} (V = kappa phi^3/3! "
            "+ lam phi^4/4!, the library's convention)",
            DeprecationWarning,
            stacklevel=3,  # the caller of run_ensemble
        )
        return from_g(float(table.get("g3", 0.0)), float(table.get("g4", 0.1)))
    return potential_from_spec(table)


def run_ensemble(spec: dict, alpha: float = DEFAULT_ALPHA) -> tuple[xr.DataTree, list[SymmetryResult]]:
    """Build the ensemble of one recipe entry and run every registered test that applies; results are attached.

    The ensemble and each test draw from independent keys derived from the entry's `key`.
    """
    for k in ("name", "architecture", "n"):
        if k not in spec:
            raise NNFTError(f"ensemble: missing key {k!r}")
    model = build_model(spec["architecture"], spec.get("params"))
    n = int(spec["n"])
    key = as_key(spec.get("key", 0), "key")
    x = default_points(model.d, int(spec.get("n_points", 3)))
    deform = spec.get("deform")
    if deform:
        tree = deformed_ensemble(model, x, n, ensemble_key(key), deformation(deform))
    else:
        tree = prior_ensemble(model, x, n, ensemble_key(key))
    ctx = EnsembleContext(tree, as_fields(tree), model, x, n, key, alpha, dict(spec), bool(deform))
    results = run_applicable(ctx)
    tree.attrs.update({**model_attrs(model), "name": spec["name"], "architecture": spec["architecture"]})
    attach_results(tree, results)
    return tree, results


def report_tree(tree: xr.DataTree, key=None, alpha: float = DEFAULT_ALPHA, group: str | None = None):
    """Every registered data-only test that applies to a stored results tree (Z2 or internal SO(D); RP,
    cluster decomposition where the file holds the transformed fields; permutation on stored correlators).

    `group`: the group holding `phi` (default: `posterior` if present, else `prior`). `key` (default 0)
    is the root of the tests' own keys, independent of any key the ensemble was drawn with.
    """
    key = as_key(0 if key is None else key, "key")
    group = default_group(tree) if group is None else group
    f = as_fields(tree, group=group)
    ctx = EnsembleContext(tree, f, None, f.x, f.n, key, alpha, group=group)
    res = run_applicable(ctx)
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


def plot_result(res: SymmetryResult, path: Path | None = None, *, ax=None) -> Figure | None:
    """A figure for rows where a picture says more (cluster decay curve, RP spectrum), drawn on `ax`
    (a new figure if `None`); written as a PNG when `path` is given. Returns the Figure, or `None`
    for rows without one."""
    ex = res.extra
    if "r" not in ex and "eigenvalues" not in ex:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    if ax is None:
        fig = Figure(figsize=(4.5, 3.2), layout="constrained")
        ax = fig.add_subplot()
    fig = ax.figure
    if "r" in ex:
        ax.errorbar(ex["r"], ex["g2c"], yerr=ex["g2c_se"], marker="o", label="G2c(r)")
        ax.errorbar(ex["r"], ex["c4"], yerr=ex["c4_se"], marker="s", label="G4(a,b) - G2(a)G2(b)")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # no overlapping minor-tick labels
        ax.set_xlabel("separation r")
        ax.legend(fontsize=7)
    else:
        ev = ex["eigenvalues"]
        ax.errorbar(np.arange(ev.size), ev, yerr=ex["eigenvalues_se"], fmt="o")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("eigenvalue index")
        ax.set_ylabel("eigenvalue of G2(theta x_i, x_j)")
    ax.set_title(f"{res.name.split(':')[0]} [{res.verdict}]", fontsize=10)
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig


def write_report(sections: dict[str, list[SymmetryResult]], out: Path, extra_md: str = "") -> Path:
    """summary.md with one table per ensemble, plots next to it; returns the summary path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md = ["# Symmetry report", "", "Family-wise tests, Holm-corrected over entries; verdict at the stated alpha.", ""]
    for name, results in sections.items():
        md += [f"## {name}", "", table(results), ""]
        for i, r in enumerate(results):
            test = re.sub(r"[^a-z0-9]+", "_", r.name.split(":")[0].lower()).strip("_") or str(i)
            png = out / f"{name}_{test}.png"
            if plot_result(r, png) is not None:
                md.append(f"![{r.name}]({png.name})")
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
    key = as_key(spec.get("key", 0), "key")
    k_ens, k_rot = ensemble_key(key), jax.random.fold_in(key, 1)  # networks and rotations: independent keys

    def run(mu):
        tree = prior_ensemble(VectorGaussNet(**{**params, "mu": mu}), x, n, k_ens)
        return internal_so_test(tree, k_rot, alpha=alpha)

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
    rows = power_table(None if n is None else int(n), as_key(spec.get("key", 0)), alpha)
    md = "## Power: smallest breaking each test flags\n\n" + power_markdown(rows)
    return rows, md
