"""The `width_scaling` recipe: the paper's experiment, report folder with results.nc,
plots and summary.md. The default recipe of `nnft run` is this one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from .._errors import NNFTError
from ..recipes import register_recipe
from ._plots import plot_g2, plot_scaling
from ._scaling import fit_slopes, width_scaling

SPEC_KEYS = {"widths", "n_nets", "ensembles"}


def check_spec(spec: dict) -> None:
    missing = SPEC_KEYS - set(spec)
    if missing:
        raise NNFTError(f"recipe: width_scaling needs {sorted(SPEC_KEYS)}; missing {sorted(missing)}")
    if not isinstance(spec["ensembles"], list) or not spec["ensembles"]:
        raise NNFTError("recipe: [[ensembles]] must list at least one ensemble")
    for e in spec["ensembles"]:
        if "architecture" not in e or "x" not in e:
            raise NNFTError("recipe: each [[ensembles]] entry needs `architecture` and `x`")


@register_recipe("width_scaling")
def run(spec: dict, out: Path, progress: bool = True) -> dict:
    check_spec(spec)
    widths = spec["widths"]
    results, fits = {}, {}
    for i, e in enumerate(spec["ensembles"]):
        name = e.get("label", e["architecture"])
        n_nets = e.get("n_nets", spec["n_nets"])
        if isinstance(n_nets, dict):
            n_nets = [n_nets.get(str(w), n_nets.get("default")) for w in widths]
        ds = width_scaling(
            e["architecture"],
            e.get("params", {}),
            np.asarray(e["x"], np.float64),
            widths,
            n_nets,
            key=spec.get("seed", 0) + 1000 * i,
            n_neurons=spec.get("n_neurons", 0),
            dtype=spec.get("dtype", "float32"),
            progress=progress,
        )
        results[name] = ds
        fits[name] = fit_slopes(ds)
        plot_scaling(name, ds, fits[name], out / f"scaling_{name}.png")
    plot_g2(results, out / "g2_vs_kernel.png")
    write_results(results, fits, out / "results.nc")
    (out / "summary.md").write_text(summary_markdown(spec, results, fits))
    return {
        f"{n} {v} slope": (
            f"{f['slope']:.3f} ± {f['slope_se']:.3f} (expected {f['expected']:.0f})" if "slope" in f else f["error"]
        )
        for n, ff in fits.items()
        for v, f in ff.items()
    }


def write_results(results: dict[str, xr.Dataset], fits: dict, path: Path) -> None:
    dt = xr.DataTree.from_dict({f"/{name}": ds for name, ds in results.items()})
    for name, ff in fits.items():
        clean = {v: {k: val for k, val in f.items() if k != "fit"} for v, f in ff.items()}
        dt[name].attrs["fits"] = json.dumps(clean, default=float)
    dt.to_netcdf(path, engine="h5netcdf")


def summary_markdown(spec, results, fits) -> str:
    lines = ["# Width scaling of the NN-FT correlators", ""]
    lines += [
        "Deviations from the GP of the smeared field Phi = sum_i phi(x_i): d4 = sum G4 / sum G4_GP - 1, "
        "d6 likewise, d6c = sum G6c / sum G6_GP, d6m = d6 - d6c (its 1/N part). d6 is fitted only where "
        "its 1/N^2 part d6c is below one SE of d6. Errors are delete-one-block jackknife standard errors; "
        "fits use only widths where the value is at least 3 SE from zero (above the statistical floor). "
        "The 95% CI is Student-t; the verdict compares the expected slope with 4 SE of the fit.",
        "",
        "| ensemble | observable | slope | SE | 95% CI | expected | z | verdict | widths fitted |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, ff in fits.items():
        for v, f in ff.items():
            if "slope" not in f:
                lines.append(f"| {name} | {v} | - | - | - | {f['expected']:.0f} | - | below floor: {f['error']} | - |")
                continue
            ok = "consistent" if abs(f["z"]) <= 4 else "INCONSISTENT"
            lines.append(
                f"| {name} | {v} | {f['slope']:.3f} | {f['slope_se']:.3f} | [{f['ci95'][0]:.3f}, {f['ci95'][1]:.3f}] "
                f"| {f['expected']:.0f} | {f['z']:+.2f} | {ok} | {f['widths_used']} |"
            )
    lines += ["", "## G2 against the NNGP kernel", "", "| ensemble | max abs z over widths and pairs | threshold |"]
    lines += ["|---|---|---|"]
    for name, ds in results.items():
        lines.append(f"| {name} | {float(ds.G2_max_abs_z.max()):.2f} | {ds.attrs['g2_threshold']:.2f} |")
    lines += ["", f"Widths: {spec['widths']}. Plots: `g2_vs_kernel.png`, `scaling_<ensemble>.png`. Data: `results.nc`."]
    return "\n".join(lines) + "\n"
