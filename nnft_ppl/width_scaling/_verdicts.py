"""Verdicts of the width-scaling experiment: slope fits, amplitude checks against the exact
theory, and the k-hat flags that decide which widths may enter either.

A width's entry of an observable is usable for a fit when its summands' Pareto k-hat is at
most 0.7 (the mean converges) and for a verdict only when k <= 0.5 (its error bar can be
trusted too). A verdict of "consistent" needs both the slope (within 4 SE of the expected
power) and the amplitude (no width off the exact theory beyond the Bonferroni threshold,
chi^2 p-value above the 4-sigma tail); where too few widths are usable it is
"sampling-limited" rather than a slope through unreliable points.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._errors import NNFTError
from .._tails import K_UNRELIABLE, K_UNRELIABLE_SE, khat_flag
from ..stats import se_threshold
from ..theory import amplitude_check, fit_width_scaling

#: observable -> expected leading power of N
EXPECTED_SLOPES = {"d4": -1.0, "d6": -1.0, "d6m": -1.0, "d6c": -2.0}
#: observable -> order of the summands whose tail decides it
KHAT_ORDER = {"d4": 4, "d6": 6, "d6m": 6, "d6c": 6}
#: neuron-level observables (one neuron ensemble: every width is the same estimate, rescaled)
NEURON_OBSERVABLES = ("d4", "d6c")
#: short labels of the k-hat flags for tables
FLAG_LABEL = {"ok": "ok", "unreliable_se": "unreliable error bars", "unreliable": "unreliable"}


def se_dof(ds: xr.Dataset) -> int:
    """Degrees of freedom of the dataset's jackknife SEs: (fewest blocks over widths) - 1."""
    if "n_blocks" in ds:
        return int(np.min(ds.n_blocks.values)) - 1
    return int(ds.attrs["n_blocks"]) - 1


def khat_masks(ds: xr.Dataset, v: str) -> tuple[np.ndarray, np.ndarray]:
    """(usable for fits: k <= 0.7, usable for verdicts: k <= 0.5) per width for observable `v`.

    A missing or NaN k-hat counts as unreliable."""
    k = np.asarray(ds[v + "_khat"].values, np.float64) if v + "_khat" in ds else np.full(ds.width.size, np.nan)
    fin = np.isfinite(k) | (k == -np.inf)
    return fin & (k <= K_UNRELIABLE), fin & (k <= K_UNRELIABLE_SE)


def _fit(ds, v, mask):
    try:
        return fit_width_scaling(ds.width.values, ds[v].values, ds[v + "_se"].values, usable=mask), None
    except NNFTError as e:
        return None, str(e).removeprefix("values: ")


def _slope_part(ds: xr.Dataset, v: str, expected: float, fit_mask, verdict_mask) -> dict:
    """Display fit over `fit_mask`, and the slope z from a fit over `verdict_mask`."""
    sel = np.ones(ds.width.size, bool)
    if v == "d6":  # its leading 1/N only where the 1/N^2 part (d6c) is below the d6 noise
        sel = np.abs(ds.d6c.values) < ds.d6_se.values
    f, err = _fit(ds, v, fit_mask & sel)
    out: dict = {"expected": expected}
    if f is None:
        out["error"] = err
        return out
    out.update(
        slope=f.slope,
        slope_se=f.slope_se,
        ci95=(f.ci_low, f.ci_high),
        in_ci=bool(f.ci_low <= expected <= f.ci_high),
        chi2_dof=f.chi2 / max(f.dof, 1),
        widths_used=[int(w) for w in ds.width.values[f.used]],
        fit=f,
    )
    fv = f
    if np.any(f.used & ~verdict_mask):
        fv, err = _fit(ds, v, verdict_mask & sel)
    if fv is None:
        out["slope_verdict_error"] = err
    else:
        out["z"] = (fv.slope - expected) / fv.slope_se
        out["slope_ok"] = bool(abs(out["z"]) <= 4.0)
    return out


def _amplitude_part(ds: xr.Dataset, v: str, verdict_mask) -> dict:
    if v + "_exact" not in ds:
        return {}
    a = amplitude_check(ds[v].values, ds[v + "_se"].values, ds[v + "_exact"].values, verdict_mask, se_dof(ds))
    return {
        "amp_z": [None if np.isnan(z) else float(z) for z in a.z],
        "amp_n": a.dof,
        "amp_chi2": a.chi2,
        "amp_p": a.p_value,
        "amp_max_abs_z": a.max_abs_z,
        "amp_threshold": a.threshold,
        "amp_ok": a.passes,
    }


def verdict(f: dict) -> str:
    """One word (plus the reason) from a fit_slopes entry: both slope and amplitude must hold.
    Unjudged entries say why: "sampling-limited" (fewer than 3 widths with k-hat <= 0.5) or
    "below the noise floor" (too few widths at least 3 SE from zero)."""
    slope_ok, amp_ok = f.get("slope_ok"), f.get("amp_ok")
    failed = [n for n, ok in (("slope", slope_ok), ("amplitude", amp_ok)) if ok is False]
    if failed:
        return "INCONSISTENT (" + " and ".join(failed) + ")"
    if slope_ok and amp_ok:
        return "consistent"
    if slope_ok and "amp_n" not in f:
        return "slope consistent (no exact theory)"
    if f.get("khat_limited", True):
        limit = "sampling-limited"
    elif "slope" in f:  # fitted over k <= 0.7 widths, but too few k <= 0.5 widths clear the floor
        limit = "not judged (fewer than 3 widths with k <= 0.5 above the noise floor)"
    else:
        limit = "below the noise floor"
    if amp_ok and slope_ok is None:
        return f"amplitude consistent; slope {limit}"
    return limit


def fit_slopes(ds: xr.Dataset) -> dict[str, dict]:
    """Slope fits and amplitude checks of every deviation, with k-hat flags and a verdict.

    Each entry has `expected`, `khat` and `flags` per width, the display fit (`slope`,
    `slope_se`, `ci95`, `widths_used`, `fit`; or `error`), the verdict slope `z`, the
    amplitude check (`amp_z` per width, `amp_chi2` over `amp_n` usable widths, `amp_p`,
    `amp_ok`) and `verdict`.
    """
    res = {}
    for v, expected in EXPECTED_SLOPES.items():
        fit_mask, verdict_mask = khat_masks(ds, v)
        k = ds[v + "_khat"].values if v + "_khat" in ds else np.full(ds.width.size, np.nan)
        f = {"khat": [float(x) for x in k], "flags": [khat_flag(x) for x in k]}
        f.update(_slope_part(ds, v, expected, fit_mask, verdict_mask))
        f.update(_amplitude_part(ds, v, verdict_mask))
        if "error" in f and fit_mask.sum() < 3:
            f["error"] = f"sampling-limited: only {int(fit_mask.sum())} widths have k-hat <= {K_UNRELIABLE}"
        f["khat_limited"] = bool(verdict_mask.sum() < 3)
        f["verdict"] = verdict(f)
        res[v] = f
    return res


def neuron_checks(ds: xr.Dataset) -> dict[str, dict]:
    """The neuron-level band against the exact theory: one comparison per observable (every
    width is the same neuron-ensemble estimate rescaled by a power of N, so one z holds for all)."""
    out = {}
    for v in NEURON_OBSERVABLES:
        name = v + "_neuron"
        if name not in ds or v + "_exact" not in ds:
            continue
        k = float(ds[name + "_khat"].values) if name + "_khat" in ds else float("nan")
        flag = khat_flag(k)
        val, se, ex = (float(ds[n].values[0]) for n in (name, name + "_se", v + "_exact"))
        z = (val - ex) / se if se > 0 else float("nan")
        thr = se_threshold(1, 4.0, int(ds.attrs.get("neuron_n_blocks", 64)) - 1)
        if flag == "ok":
            word = "consistent" if abs(z) <= thr else "INCONSISTENT (amplitude)"
        else:
            word = f"not judged: k-hat {k:.2f} ({FLAG_LABEL[flag]})"
        out[v] = {"width": int(ds.width.values[0]), "value": val, "se": se, "exact": ex, "z": z}
        out[v].update(threshold=thr, khat=k, flag=flag, verdict=word)
    return out
