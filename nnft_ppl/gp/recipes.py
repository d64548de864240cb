"""Recipe runners: `gp_fit` (NNGP hyperparameters by the marginal likelihood on each
data set) and `nn_vs_gp` (finite-width networks by NUTS against the fitted NNGP)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from .._errors import NNFTError
from ..architectures import make_architecture
from ..recipes import register_recipe
from ..theory import fit_width_scaling
from ._compare import compare_widths, plot_comparison
from ._data import input_grid, load_dataset
from ._fit import fit_gp


def _table(spec: dict, key: str) -> dict:
    t = spec.get(key, {})
    if not isinstance(t, dict):
        raise NNFTError(f"recipe: [{key}] must be a table")
    return t


def _datasets(spec: dict) -> dict:
    ds = _table(spec, "datasets")
    if not ds:
        raise NNFTError("recipe: [datasets] must name at least one data set, e.g. [datasets.synthetic]")
    return {name: load_dataset(name, **(kw or {})) for name, kw in ds.items()}


def _arch(spec: dict):
    a = _table(spec, "architecture")
    if "name" not in a:
        raise NNFTError("recipe: [architecture] needs a name")
    return make_architecture(a["name"], **{k: v for k, v in a.items() if k != "name"})


def _w2_slope(rows) -> str:
    """W2 ~ N^slope over the widths resolved above zero (the leading finite-width correction
    to the posterior predictive is O(1/N), so the slope should approach -1)."""
    widths = np.array([r["width"] for r in rows])
    try:
        fit = fit_width_scaling(widths, [r["w2"] for r in rows], [r["w2_se"] for r in rows])
    except NNFTError as e:
        return f"(no slope: {e})"
    return (
        f"Fit W2 ~ N^slope over N = {widths[fit.used].tolist()}: slope {fit.slope:.3f} +- {fit.slope_se:.3f} "
        f"(95% CI {fit.ci_low:.2f}..{fit.ci_high:.2f}; -1 expected at large N)."
    )


@register_recipe("gp_fit")
def run_gp_fit(spec: dict, out: Path, progress: bool = True) -> dict:
    """Fit the NNGP of each listed architecture to each data set; write the fitted
    scales, LOO and predictions (netCDF) and a summary.md."""
    fit = _table(spec, "fit")
    names = spec.get("architectures", [_table(spec, "architecture").get("name", "ErfNet")])
    lines = ["# NNGP fits by the marginal likelihood", ""]
    summary = {}
    for dname, data in _datasets(spec).items():
        lines += [f"## {data.name}", "", "| architecture | scales | noise | log ML | exact LOO ELPD (SE) | notes |"]
        lines.append("|---|---|---|---|---|---|")
        for aname in names:
            g = fit_gp(make_architecture(aname, d=data.d), data.x, data.y, **fit)
            xt = input_grid(data, int(spec.get("n_grid", 60)))
            p, loo = g.predict(xt), g.elpd_loo()
            ds = xr.Dataset(
                {k: ("x_test", v) for k, v in p.items()} | {"loo_pointwise": ("obs_id", loo["pointwise"])},
                coords={"x_test": xt[:, 0], "obs_id": np.arange(data.n)},
                attrs={
                    **data.attrs(),
                    **g.summary(),
                    "architecture": aname,
                    "elpd_loo": loo["elpd"],
                    "elpd_loo_se": loo["se"],
                    "notes": "; ".join(g.notes),
                },
            )
            ds.attrs["x_mean"], ds.attrs["x_scale"] = np.asarray(ds.attrs["x_mean"]), np.asarray(ds.attrs["x_scale"])
            ds.to_netcdf(out / f"gp_{dname}_{aname}.nc")
            sc = ", ".join(f"{k}={v:.3g}" for k, v in g.kernel.values().items())
            lines.append(
                f"| {aname} | {sc} | {g.noise:.3g} | {g.log_marginal_likelihood:.3f} | "
                f"{loo['elpd']:.2f} ({loo['se']:.2f}) | {'; '.join(g.notes) or '-'} |"
            )
            summary[f"{dname}/{aname}"] = f"logML={g.log_marginal_likelihood:.3f}"
        lines.append("")
    (out / "summary.md").write_text("\n".join(lines))
    return summary


@register_recipe("nn_vs_gp")
def run_nn_vs_gp(spec: dict, out: Path, progress: bool = True) -> dict:
    """For each data set: fit the NNGP, sample the network at each width, write the
    DataTrees (netCDF), the comparison plot (PNG) and summary.md with ELPD, Pareto-k,
    W2 and every convergence warning."""
    arch = _arch(spec)
    nuts = _table(spec, "nuts")
    widths = spec.get("widths", [4, 16, 64, 256])
    lines = [f"# {arch.name}: finite-width networks vs their NNGP", ""]
    summary = {}
    for dname, data in _datasets(spec).items():
        c = compare_widths(arch, data, widths, n_grid=int(spec.get("n_grid", 40)), progress=progress, **nuts)
        plot_comparison(c, out / f"nn_vs_gp_{dname}.png")
        for w, dt in c.nets.items():
            dt.attrs = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in dt.attrs.items()}
            dt.to_netcdf(out / f"bnn_{dname}_N{w}.nc")
        w2 = [r["w2"] for r in c.rows]
        mono = all(a > b for a, b in zip(w2, w2[1:], strict=False))
        slope = _w2_slope(c.rows)
        bad = [r for r in c.rows if r["warnings"] or r["n_pareto_k_bad"]]
        lines += [
            f"## {data.name}",
            "",
            f"Transform: {json.dumps(data.attrs())}",
            "",
            f"GP fit: {c.gp.summary()}  notes: {'; '.join(c.gp.notes) or 'none'}",
            "",
            c.table(),
            "",
            f"W2 decreasing with width: {'yes' if mono else 'NO'}. {slope} "
            + (
                "Pareto-k: all <= 0.7, PSIS-LOO trustworthy."
                if not any(r["n_pareto_k_bad"] for r in c.rows)
                else "Pareto-k > 0.7 at some widths: PSIS-LOO ELPD there is NOT trustworthy."
            ),
            "",
            "Warnings: " + ("; ".join(f"N={r['width']}: {r['warnings']}" for r in bad if r["warnings"]) or "none"),
            "",
            f"![](nn_vs_gp_{dname}.png)",
            "",
        ]
        summary[dname] = f"W2 {' > '.join(f'{v:.3f}' for v in w2)} (monotone: {mono})"
    (out / "summary.md").write_text("\n".join(lines))
    return summary
