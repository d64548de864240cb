"""Width-scaling fits: log|y| = a + slope log N by weighted least squares, with a CI;
and amplitude checks of the data against the exact finite-width theory, width by width."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats

from .._errors import NNFTError
from ..stats import ALPHA_4SE, se_threshold


class ScalingFit(NamedTuple):
    slope: float
    slope_se: float
    intercept: float
    ci_low: float
    ci_high: float
    chi2: float
    dof: int
    used: np.ndarray  # boolean mask of the widths used (signal above the floor)

    def predict(self, widths) -> np.ndarray:
        return np.exp(self.intercept) * np.asarray(widths, np.float64) ** self.slope


def fit_width_scaling(widths, values, se, floor_sigma: float = 3.0, level: float = 0.95, usable=None) -> ScalingFit:
    """Fit |values| ~ C N^slope over the widths whose value is at least `floor_sigma`
    standard errors from zero (below that the estimate is at the statistical floor) and,
    with `usable` (a boolean mask), only over the widths marked usable (e.g. by k-hat).

    The slope error is the weighted-least-squares one, inflated by sqrt(chi2/dof) when
    the fit is worse than its errors (PDG scale factor); the CI uses Student t.
    """
    w = np.asarray(widths, np.float64)
    v = np.asarray(values, np.float64)
    e = np.asarray(se, np.float64)
    if not (w.shape == v.shape == e.shape) or w.ndim != 1:
        raise NNFTError("widths, values, se: must be 1-D arrays of one length")
    used = (np.abs(v) >= floor_sigma * e) & (e > 0) & (w > 0)
    if usable is not None:
        if np.shape(usable) != w.shape:
            raise NNFTError("usable: must be a boolean mask of the widths' length")
        used &= np.asarray(usable, bool)
    if used.sum() < 3:
        extra = "" if usable is None else f" among the {int(np.sum(usable))} usable ones"
        raise NNFTError(
            f"values: only {used.sum()} widths are above the {floor_sigma}-sigma floor{extra}; need 3 to fit a slope"
        )
    lx, ly = np.log(w[used]), np.log(np.abs(v[used]))
    sy = e[used] / np.abs(v[used])
    wt = 1.0 / sy**2
    a = np.vstack([np.ones_like(lx), lx]).T
    cov = np.linalg.inv(a.T @ (wt[:, None] * a))
    beta = cov @ (a.T @ (wt * ly))
    resid = ly - a @ beta
    chi2 = float(np.sum(wt * resid**2))
    dof = int(used.sum() - 2)
    scale = max(1.0, np.sqrt(chi2 / dof)) if dof > 0 else 1.0
    slope_se = float(np.sqrt(cov[1, 1]) * scale)
    q = stats.t.ppf(0.5 + level / 2, max(dof, 1))
    return ScalingFit(
        float(beta[1]),
        slope_se,
        float(beta[0]),
        float(beta[1] - q * slope_se),
        float(beta[1] + q * slope_se),
        chi2,
        dof,
        used,
    )


class AmplitudeCheck(NamedTuple):
    """Data against an exact prediction, entry by entry, over the entries marked usable.

    `z` is (value - exact) / se (NaN where not used); `chi2` sums z^2 over the `used`
    entries, `p_value` is its upper tail under chi^2 with `dof` = number of used entries;
    `threshold` is the Bonferroni-corrected 4-SE bound on max |z| (Student t with the
    SEs' own degrees of freedom). `passes` is None when no entry is usable.
    """

    z: np.ndarray
    used: np.ndarray
    chi2: float
    dof: int
    p_value: float
    max_abs_z: float
    threshold: float

    @property
    def passes(self) -> bool | None:
        if self.dof == 0:
            return None
        return bool(self.max_abs_z <= self.threshold and self.p_value >= ALPHA_4SE)


def amplitude_check(values, se, exact, usable=None, se_dof: int | None = None) -> AmplitudeCheck:
    """Compare independent estimates `values` (with standard errors `se`) with `exact`.

    Entries outside `usable` (for example heavy-tailed ones, whose error bars cannot be
    trusted) or with a non-positive or non-finite SE are left out. `se_dof` are the
    degrees of freedom of each SE (a jackknife over B blocks: B - 1); None means normal.
    """
    v, e, x = (np.asarray(a, np.float64) for a in (values, se, exact))
    if not (v.shape == e.shape == x.shape) or v.ndim != 1:
        raise NNFTError("values, se, exact: must be 1-D arrays of one length")
    ok = np.ones(v.shape, bool) if usable is None else np.asarray(usable, bool)
    if ok.shape != v.shape:
        raise NNFTError("usable: must be a boolean mask of the values' length")
    used = ok & np.isfinite(v) & np.isfinite(e) & (e > 0) & np.isfinite(x)
    z = np.full(v.shape, np.nan)
    z[used] = (v[used] - x[used]) / e[used]
    n = int(used.sum())
    chi2 = float(np.sum(z[used] ** 2))
    p = float(stats.chi2.sf(chi2, n)) if n else float("nan")
    mz = float(np.max(np.abs(z[used]))) if n else float("nan")
    return AmplitudeCheck(z, used, chi2, n, p, mz, se_threshold(max(n, 1), 4.0, se_dof))
