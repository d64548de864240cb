"""Width-scaling fits: log|y| = a + slope log N by weighted least squares, with a CI."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats

from .._errors import NNFTError


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


def fit_width_scaling(widths, values, se, floor_sigma: float = 3.0, level: float = 0.95) -> ScalingFit:
    """Fit |values| ~ C N^slope over the widths whose value is at least `floor_sigma`
    standard errors from zero (below that the estimate is at the statistical floor).

    The slope error is the weighted-least-squares one, inflated by sqrt(chi2/dof) when
    the fit is worse than its errors (PDG scale factor); the CI uses Student t.
    """
    w = np.asarray(widths, np.float64)
    v = np.asarray(values, np.float64)
    e = np.asarray(se, np.float64)
    if not (w.shape == v.shape == e.shape) or w.ndim != 1:
        raise NNFTError("widths, values, se: must be 1-D arrays of one length")
    used = (np.abs(v) >= floor_sigma * e) & (e > 0) & (w > 0)
    if used.sum() < 3:
        raise NNFTError(
            f"values: only {used.sum()} widths are above the {floor_sigma}-sigma floor; need 3 to fit a slope"
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
