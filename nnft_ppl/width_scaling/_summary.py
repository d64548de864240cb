"""The width-scaling report's written outputs: `results.nc` and `summary.md`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from ._verdicts import FLAG_LABEL, neuron_checks

INTRO = (
    "Deviations from the GP of the smeared field Phi = sum_i phi(x_i): d4 = sum G4 / sum G4_GP - 1, "
    "d6 likewise, d6c = sum G6c / sum G6_GP, d6m = d6 - d6c (its 1/N part). Errors are delete-one-block "
    "jackknife standard errors (Student t with the dataset's blocks - 1 degrees of freedom). "
    "k-hat is the Pareto shape of the summands' tail (order 4 for d4, 6 for the others): k <= 0.5 value and "
    "error bar reliable; 0.5 < k <= 0.7 error bar unreliable (kept in fits, left out of verdicts); k > 0.7 "
    "value unreliable (left out of fits and verdicts). Slopes are fitted over widths at least 3 SE from zero "
    "(d6 only where d6c is below its noise); the slope z uses the k <= 0.5 widths. The amplitude columns "
    "compare the data with the exact finite-width theory width by width over the k <= 0.5 widths: max |z| "
    "against its Bonferroni threshold, chi^2/dof and its p-value. 'consistent' needs both the slope (|z| <= 4) "
    "and the amplitude (max |z| within the threshold, p above the 4-sigma tail); 'sampling-limited' means too "
    "few widths have trustworthy tails to judge."
)


def _khat_range(ks) -> str:
    k = np.asarray([x for x in ks if np.isfinite(x)], float)
    return f"{k.min():.2f}..{k.max():.2f}" if k.size else "n/a"


def _fit_row(name: str, v: str, f: dict) -> str:
    n_bad = sum(fl != "ok" for fl in f["flags"])
    kcol = f"{_khat_range(f['khat'])} ({n_bad} flagged)"
    if "slope" in f:
        slope = f"{f['slope']:.3f} ± {f['slope_se']:.3f} | [{f['ci95'][0]:.3f}, {f['ci95'][1]:.3f}]"
        fitted = str(f["widths_used"])
    else:
        slope, fitted = f"- | {f['error']}", "-"
    z = f"{f['z']:+.2f}" if "z" in f else "-"
    if f.get("amp_n"):
        amp = f"{f['amp_max_abs_z']:.2f} (thr {f['amp_threshold']:.2f}) | {f['amp_chi2']:.1f}/{f['amp_n']}"
        amp += f" | {f['amp_p']:.2g}"
    elif "amp_n" in f:
        amp = "- | no k <= 0.5 width | -"
    else:
        amp = "- | no exact theory | -"
    return f"| {name} | {v} | {slope} | {f['expected']:.0f} | {z} | {amp} | {kcol} | {f['verdict']} | {fitted} |"


def _khat_table(results: dict[str, xr.Dataset]) -> list[str]:
    lines = ["", "## k-hat per width", "", "| ensemble | width | G2 k | d4 k (order 4) | d6, d6c, d6m k (order 6) |"]
    lines.append("|---|---|---|---|---|")
    for name, ds in results.items():
        for i, w in enumerate(ds.width.values):
            cells = []
            for v in ("G2", "d4", "d6"):
                k = float(ds[v + "_khat"].values[i]) if v + "_khat" in ds else float("nan")
                cells.append(
                    f"{k:.2f}" + ("" if k <= 0.5 else (" (unreliable error bars)" if k <= 0.7 else " (unreliable)"))
                )
            lines.append(f"| {name} | {int(w)} | " + " | ".join(cells) + " |")
    return lines


def _neuron_table(results: dict[str, xr.Dataset]) -> list[str]:
    rows = [(name, v, c) for name, ds in results.items() for v, c in neuron_checks(ds).items()]
    if not rows:
        return []
    lines = ["", "## Neuron-level band against the exact theory", ""]
    lines.append(
        "Every width comes from one neuron ensemble (the same estimate rescaled), so one z per observable; "
        "shown at the smallest width."
    )
    lines += ["", "| ensemble | observable | width | neuron level | exact | z | threshold | k-hat | verdict |"]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for name, v, c in rows:
        lines.append(
            f"| {name} | {v} | {c['width']} | {c['value']:.5g} ± {c['se']:.2g} | {c['exact']:.5g} | {c['z']:+.2f} "
            f"| {c['threshold']:.2f} | {c['khat']:.2f} ({FLAG_LABEL[c['flag']]}) | {c['verdict']} |"
        )
    return lines


def _g2_row(name: str, ds: xr.Dataset) -> str:
    """G2 against the kernel, judged only over the widths whose G2 error bars can be trusted."""
    z, thr = ds.G2_max_abs_z.values, float(ds.attrs["g2_threshold"])
    k = ds.G2_khat.values if "G2_khat" in ds else np.full(z.shape, np.nan)
    ok = k <= 0.5
    if not ok.any():
        word = "not judged: every width has k-hat > 0.5"
    else:
        word = "within threshold" if float(z[ok].max()) <= thr else "EXCEEDS threshold"
        if not ok.all():
            word += f" (widths {[int(w) for w in ds.width.values[~ok]]} with k-hat > 0.5 not judged)"
    return f"| {name} | {float(z.max()):.2f} | {thr:.2f} | {ds.attrs['se_dof']} | {_khat_range(k)} | {word} |"


def summary_markdown(spec: dict, results: dict[str, xr.Dataset], fits: dict) -> str:
    """The report's summary: slopes with amplitude checks and verdicts, k-hat per width,
    the neuron-level band, and G2 against the kernel."""
    lines = ["# Width scaling of the NN-FT correlators", "", INTRO, ""]
    lines += [
        "| ensemble | observable | slope ± SE | 95% CI | expected | slope z | amplitude max abs z | "
        "amplitude chi^2/dof | p | k-hat (flagged widths) | verdict | widths fitted |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, ff in fits.items():
        lines += [_fit_row(name, v, f) for v, f in ff.items()]
    lines += _neuron_table(results)
    lines += _khat_table(results)
    lines += [
        "",
        "## G2 against the NNGP kernel",
        "",
        "| ensemble | max abs z over widths and pairs | threshold | dof | G2 k-hat | verdict |",
    ]
    lines += ["|---|---|---|---|---|---|"]
    lines += [_g2_row(name, ds) for name, ds in results.items()]
    lines += ["", f"Widths: {spec['widths']}. Plots: `g2_vs_kernel.png`, `scaling_<ensemble>.png`. Data: `results.nc`."]
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, xr.Dataset], fits: dict, path: Path) -> None:
    """One DataTree group per ensemble; the fits and verdicts as a JSON attr `fits`."""
    dt = xr.DataTree.from_dict({f"/{name}": ds for name, ds in results.items()})
    for name, ff in fits.items():
        clean = {v: {k: val for k, val in f.items() if k != "fit"} for v, f in ff.items()}
        dt[name].attrs["fits"] = json.dumps(clean, default=float)
        dt[name].attrs["neuron_checks"] = json.dumps(neuron_checks(results[name]), default=float)
    dt.to_netcdf(path, engine="h5netcdf")


def headline(fits: dict) -> dict:
    """The run's one-line results: slope with SE, amplitude chi^2 and the verdict."""
    out = {}
    for n, ff in fits.items():
        for v, f in ff.items():
            s = f"{f['slope']:.3f} ± {f['slope_se']:.3f} (expected {f['expected']:.0f})" if "slope" in f else f["error"]
            if f.get("amp_n"):
                s += f"; amplitude chi^2 {f['amp_chi2']:.1f}/{f['amp_n']}"
            out[f"{n} {v}"] = f"{s}; {f['verdict']}"
    return out
