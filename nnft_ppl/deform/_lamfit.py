"""How the deviation from first-order perturbation theory grows with the coupling.

Given a scan over lam of a measured observable G(lam) with Monte Carlo SEs, its exact free value G(0)
(no MC error) and the first-order shift, the deviation dev(lam) = G(lam) - G(0) - first_order(lam) is
fitted by weighted least squares as a lam + b lam^2 (+ c lam^3). First order is right when a is
consistent with 0; the deviation grows like lam^2 when b is resolved. The runs at different lam are
independent, so the SEs are uncorrelated across lam and the fit's chi^2 has n - k degrees of freedom.

Optionally each run also measures the lam-derivative dG/dlam (a fluctuation estimator, e.g.
`phi2_response`); its deviation from the first-order slope is a + 2 b lam + 3 c lam^2 and enters the same
generalised least-squares fit with its covariance with the value at the same lam (2x2 blocks). The
derivative pins a at small lam, which the values alone barely separate from b (lam and lam^2 are
collinear over a short range).

The perturbative series is asymptotic: with the phi^4 recipe's CosNet the cubic term is -0.8 lam times
the quadratic one, so a quadratic fit is only clean where the deviation is below ~10% of the first-order
shift; use order=3 over a range where the deviation is resolved (see tests/test_deform_sampling.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats as st

from .._errors import NNFTError


class DeviationFit(NamedTuple):
    """The WLS fit of dev(lam) = sum_k coef[k] lam^(k+1) and derived figures.

    `coef`/`coef_se`/`cov`: (a, b[, c]) with SEs and covariance; `chi2`, `dof`, `p_value` of the fit
    (values and, when given, derivatives);
    `slope`/`slope_se`: the weighted log-log slope of |dev| over `slope_lams` (the lams with
    |dev| > min_z SE; nan below two); `breakdown_lam`: smallest lam with |dev| > n_sigma SE;
    `breakdown_rel_lam`: smallest lam with |dev| > rel |first-order shift| (point estimates);
    `rel_lam_fit`/`rel_lam_fit_se`: where the fitted b lam^2 reaches rel |first-order shift|
    (rel |a1| / |b| for a first-order shift a1 lam), with its delta-method SE."""

    lams: np.ndarray
    deviation: np.ndarray
    se: np.ndarray
    first_order_shift: np.ndarray
    derivative_deviation: np.ndarray | None
    derivative_se: np.ndarray | None
    coef: np.ndarray
    coef_se: np.ndarray
    cov: np.ndarray
    chi2: float
    dof: int
    p_value: float
    slope: float
    slope_se: float
    slope_lams: np.ndarray
    breakdown_lam: float | None
    breakdown_rel_lam: float | None
    rel: float
    rel_lam_fit: float
    rel_lam_fit_se: float

    @property
    def z(self) -> np.ndarray:
        """coef / coef_se."""
        return self.coef / self.coef_se

    def predict(self, lams) -> np.ndarray:
        """The fitted deviation at `lams`."""
        lams = np.asarray(lams, np.float64)
        return sum(c * lams ** (k + 1) for k, c in enumerate(self.coef))

    def predict_se(self, lams) -> np.ndarray:
        """The SE of the fitted deviation at `lams` (from the coefficient covariance)."""
        lams = np.asarray(lams, np.float64)
        x = np.stack([lams ** (k + 1) for k in range(len(self.coef))], axis=-1)
        return np.sqrt(np.einsum("...i,ij,...j->...", x, self.cov, x))

    def summary(self) -> str:
        names = "abc"
        terms = ", ".join(
            f"{names[k]} = {c:+.4g} ± {s:.2g} ({c / s:+.1f} SE)"
            for k, (c, s) in enumerate(zip(self.coef, self.coef_se, strict=True))
        )
        form = " + ".join(f"{names[k]} lam^{k + 1}" if k else "a lam" for k in range(len(self.coef)))
        data = "values and derivatives" if self.derivative_deviation is not None else "values"

        def fmt(v):
            return ", ".join(f"{x:g}" for x in v)

        return (
            f"dev(lam) = {form} fitted to {data} at lam = {fmt(self.lams)}: {terms}; "
            f"chi^2/dof = {self.chi2:.2f}/{self.dof} (p = {self.p_value:.2f}); "
            f"log-log slope {self.slope:.2f} ± {self.slope_se:.2f} over lam = {fmt(self.slope_lams)}"
        )


def _vec(name: str, v, n: int | None = None) -> np.ndarray:
    try:
        a = np.asarray(v, np.float64)
    except (TypeError, ValueError):
        raise NNFTError(f"{name} must be a sequence of numbers") from None
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        raise NNFTError(f"{name} must be one number per lam ({n}), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise NNFTError(f"{name} must be finite")
    return a


def _gls(x: np.ndarray, y: np.ndarray, inv_cov: np.ndarray):
    cov = np.linalg.inv(x.T @ inv_cov @ x)
    coef = cov @ (x.T @ inv_cov @ y)
    r = y - x @ coef
    return coef, cov, float(r @ inv_cov @ r)


def _wls(x: np.ndarray, y: np.ndarray, se: np.ndarray):
    return _gls(x, y, np.diag(1.0 / se**2))


def fit_deviation(
    lams,
    value,
    se,
    free: float,
    first_order_shift,
    *,
    derivative=None,
    derivative_se=None,
    derivative_cov=None,
    order: int = 2,
    min_z: float = 2.0,
    n_sigma: float = 3.0,
    rel: float = 0.1,
) -> DeviationFit:
    """Fit dev = value - free - first_order_shift = a lam + b lam^2 (order=2) or + c lam^3 (order=3).

    `value`/`se`: the measured observable per lam and its MC SE (independent runs); `free`: its exact
    lam = 0 value; `first_order_shift`: the first-order prediction of value - free per lam (linear in
    lam). Optionally `derivative`/`derivative_se`: the measured dG/dlam per lam, and `derivative_cov`
    its covariance with the value of the same run (0 if omitted)."""
    lams, value, se, shift = _check_scan(lams, value, se, free, first_order_shift, order)
    n = lams.shape[0]
    dev = value - free - shift
    x = np.stack([lams ** (k + 1) for k in range(order)], axis=1)
    if derivative is None:
        coef, cov, chi2 = _wls(x, dev, se)
        ddev = dse = None
        n_data = n
    else:
        ddev, dse, (coef, cov, chi2) = _fit_with_derivatives(
            lams, x, dev, se, shift, derivative, derivative_se, derivative_cov
        )
        n_data = 2 * n
    resolved = np.abs(dev) > min_z * se
    slope, slope_se = _loglog_slope(lams[resolved], dev[resolved], se[resolved])
    bad = lams[np.abs(dev) > n_sigma * se]
    bad_rel = lams[np.abs(dev) > rel * np.abs(shift)]
    rel_lam, rel_lam_se = _rel_breakdown(lams, shift, coef, cov, rel)
    dof = n_data - order
    return DeviationFit(
        lams,
        dev,
        se,
        shift,
        ddev,
        dse,
        coef,
        np.sqrt(np.diag(cov)),
        cov,
        chi2,
        dof,
        float(st.chi2.sf(chi2, dof)),
        slope,
        slope_se,
        lams[resolved],
        float(bad.min()) if bad.size else None,
        float(bad_rel.min()) if bad_rel.size else None,
        rel,
        rel_lam,
        rel_lam_se,
    )


def _check_scan(lams, value, se, free, first_order_shift, order):
    """The scan's arrays, validated (one finite number per lam, lams distinct and > 0, se > 0)."""
    lams = _vec("lams", lams)
    n = lams.shape[0]
    value, se = _vec("value", value, n), _vec("se", se, n)
    shift = _vec("first_order_shift", first_order_shift, n)
    if order not in (2, 3):
        raise NNFTError(f"order must be 2 or 3, got {order!r}")
    if np.any(lams <= 0) or len(np.unique(lams)) != n:
        raise NNFTError("lams must be distinct and > 0")
    if np.any(se <= 0):
        raise NNFTError("se must be > 0")
    if n <= order:
        raise NNFTError(f"need more lams ({n}) than fitted coefficients ({order})")
    if not np.isfinite(free):
        raise NNFTError("free must be finite")
    return lams, value, se, shift


def _fit_with_derivatives(lams, x, dev, se, shift, derivative, derivative_se, derivative_cov):
    """GLS on values and lam-derivatives together (2x2 covariance blocks per lam): the derivative's
    deviation, its SE and (coef, cov, chi2)."""
    n, order = x.shape
    deriv, dse = _vec("derivative", derivative, n), _vec("derivative_se", derivative_se, n)
    dcov = np.zeros(n) if derivative_cov is None else _vec("derivative_cov", derivative_cov, n)
    if np.any(dse <= 0):
        raise NNFTError("derivative_se must be > 0")
    if np.any(dcov**2 >= (se * dse) ** 2):
        raise NNFTError("derivative_cov must give a positive-definite 2x2 covariance per lam")
    ddev = deriv - shift / lams  # the first-order shift is linear in lam
    xd = np.stack([(k + 1) * lams**k for k in range(order)], axis=1)
    xx = np.stack([x, xd], axis=1).reshape(2 * n, order)
    yy = np.stack([dev, ddev], axis=1).reshape(2 * n)
    blocks = np.linalg.inv(np.stack([np.stack([se**2, dcov], -1), np.stack([dcov, dse**2], -1)], -2))
    inv_cov = np.zeros((2 * n, 2 * n))
    for i in range(n):
        inv_cov[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = blocks[i]
    return ddev, dse, _gls(xx, yy, inv_cov)


def _loglog_slope(lams, dev, se) -> tuple[float, float]:
    """Weighted log-log slope of |dev| against lam over the given (resolved) points, with its SE;
    nan below two points."""
    if lams.size < 2:
        return float("nan"), float("nan")
    xs = np.stack([np.ones(lams.size), np.log(lams)], axis=1)
    sc, scov, _ = _wls(xs, np.log(np.abs(dev)), se / np.abs(dev))
    return float(sc[1]), float(np.sqrt(scov[1, 1]))


def _rel_breakdown(lams, shift, coef, cov, rel: float) -> tuple[float, float]:
    """Where the fitted b lam^2 reaches rel |a1 lam| (a1 the first-order slope; the shift is linear in
    lam), with its delta-method SE."""
    a1 = float(np.sum(shift * lams) / np.sum(lams**2))
    b, b_se = coef[1], np.sqrt(cov[1, 1])
    rel_lam = rel * abs(a1) / abs(b)
    return float(rel_lam), float(rel_lam * b_se / abs(b))
