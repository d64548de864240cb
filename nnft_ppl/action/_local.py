"""The local quartic coupling and its running with the cutoff (arXiv:2008.08601, sec. 4).

At first order in a local interaction S_int = (lam/4!) integral phi^4 the connected 4-point
function is G4c(x1..x4) = -lam integral prod_i K(x_i, z) dz, so each index tuple t gives an
estimate lam_t(Lambda) = G4c_t / (-I_t(Lambda)). One local coupling describes the ensemble when the
lam_t agree: a Hotelling chi^2 of constancy uses their jackknife covariance (they come from one
ensemble, so they are correlated). Everything is computed on every jackknife replica.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats as st

from .._errors import NNFTError, NNFTNumericalError
from .._tensors import sorted_tuples
from .._x64 import float64
from ..architectures import Architecture
from ..stats import jackknife_se
from ._correlators import Correlators, jackknife_cov
from ._integrals import cutoff_quadrature, kernel_to, vertex_integrals


class LocalCoupling(NamedTuple):
    """lam_t = G4c_t / (-I_t) per index tuple t at one cutoff, and the single coupling that fits them.

    `lam`/`lam_se`/`lam_replicas` per tuple (SEs zero for exact input); `integral` the I_t;
    `mean`/`mean_se`/`mean_replicas`: the inverse-variance weighted mean over tuples (unweighted for
    exact input; its SE by jackknife, so the tuples' correlation is accounted for);
    `chi2`/`dof`/`p_value`: Hotelling's test that every lam_t equals one coupling (nan for exact
    input); `spread`: the tuples' relative standard deviation; `khat`: the Pareto k-hat of the
    4th-order summands (Monte Carlo input)."""

    cutoff: float
    tuples: np.ndarray
    integral: np.ndarray
    lam: np.ndarray
    lam_se: np.ndarray
    lam_replicas: np.ndarray
    mean: float
    mean_se: float
    mean_replicas: np.ndarray
    chi2: float
    dof: int
    p_value: float
    spread: float
    khat: float

    def summary(self) -> str:
        test = (
            "exact input" if np.isnan(self.chi2) else f"chi^2/dof = {self.chi2:.1f}/{self.dof} (p = {self.p_value:.2g})"
        )
        return (
            f"Lambda = {self.cutoff:g}: lam = {self.mean:.5g} ± {self.mean_se:.2g} over {len(self.lam)} tuples, "
            f"spread {100 * self.spread:.1f}%, constancy {test}"
        )


def default_tuples(n_points: int, n_blocks: int, exact: bool = False) -> np.ndarray:
    """Every sorted 4-tuple of the points for exact input or when fewer than a quarter of the jackknife
    blocks; else B/4 of them, evenly spaced in `sorted_tuples` order (the constancy test's covariance is
    estimated from B blocks, so it needs far fewer tuples than blocks)."""
    tl = np.asarray(sorted_tuples(n_points, 4), np.int64)
    if exact or len(tl) <= n_blocks // 4:
        return tl
    keep = np.unique(np.linspace(0, len(tl) - 1, max(2, n_blocks // 4)).round().astype(int))
    return tl[keep]


def check_tuples(tuples, n_points: int, order: int = 4) -> np.ndarray:
    try:
        t = np.sort(np.asarray(tuples, np.int64), axis=1)
    except (TypeError, ValueError, np.exceptions.AxisError):
        raise NNFTError(f"tuples: expected a list of {order}-index tuples, got {tuples!r}") from None
    if t.ndim != 2 or t.shape[1] != order or t.shape[0] == 0:
        raise NNFTError(f"tuples: expected a (T, {order}) array of point indices, got shape {t.shape}")
    if t.min() < 0 or t.max() >= n_points:
        raise NNFTError(f"tuples: indices must lie in 0..{n_points - 1}")
    return np.unique(t, axis=0)


def _wls_mean(lam: np.ndarray, reps: np.ndarray, exact: bool):
    """The single coupling (inverse-variance weighted mean of the lam_t: positive weights, so it stays
    within their range even where one coupling does not fit), its replicas, and Hotelling's test of
    constancy (the generalised chi^2 of the lam_t about their GLS mean, jackknife covariance)."""
    t = lam.shape[0]
    b = reps.shape[0]
    if exact or t == 1:
        w = np.full(t, 1.0 / t)
        return float(w @ lam), reps @ w, float("nan"), t - 1, float("nan")
    se2 = np.square(jackknife_se(reps))
    w = (1.0 / se2) / np.sum(1.0 / se2)
    cov = jackknife_cov(reps)
    inv = np.linalg.pinv(cov, rcond=1e-12, hermitian=True)
    ones = np.ones(t)
    r = lam - float(ones @ inv @ lam / (ones @ inv @ ones))
    chi2 = float(r @ inv @ r)
    dof = t - 1
    if dof >= b - 1:
        p = float("nan")
    else:  # Hotelling: chi2 (B - dof) / ((B - 1) dof) ~ F(dof, B - dof) for a covariance from B blocks
        p = float(st.f.sf(chi2 * (b - dof) / ((b - 1) * dof), dof, b - dof))
    return float(w @ lam), reps @ w, chi2, dof, p


@float64
def local_coupling(
    corr: Correlators, arch: Architecture, cutoff: float, *, tuples=None, n_quad: int = 16, x=None
) -> LocalCoupling:
    """lam_t(Lambda) = G4c_t / (-integral_{[-Lambda, Lambda]^d} prod_i K(x_{t_i}, z) dz) per tuple.

    `corr`: the ensemble's `Correlators` (exact or measured; checked to belong to `arch` and, when
    given, to the points `x`); `cutoff` Lambda > 0 with the points inside the box; `tuples`: (T, 4)
    point indices (default `default_tuples`); `n_quad`: Gauss-Legendre nodes per panel."""
    xs = corr.check_against(arch, x)
    p = xs.shape[0]
    tl = default_tuples(p, corr.n_blocks, corr.exact) if tuples is None else check_tuples(tuples, p)
    quad = cutoff_quadrature(xs, cutoff, n_quad)
    integral = vertex_integrals(arch, xs, tl, quad)
    if np.any(integral == 0):
        raise NNFTError("tuples: the vertex integral vanishes for some tuple (no coupling can be inferred)")
    g4 = corr.connected_at(4)
    idx = corr.index(4)
    cols = np.array([idx[tuple(t)] for t in tl])
    lam = -g4.value[cols] / integral
    reps = -g4.replicas[:, cols] / integral
    mean, mean_reps, chi2, dof, pval = _wls_mean(lam, reps, corr.exact)
    mean_se = float(jackknife_se(mean_reps))
    spread = float(np.std(lam) / abs(np.mean(lam))) if np.mean(lam) != 0 else float("nan")
    khat = float((corr.khat or {}).get(4, float("nan")))
    return LocalCoupling(
        float(cutoff),
        tl,
        integral,
        lam,
        jackknife_se(reps),
        reps,
        mean,
        mean_se,
        mean_reps,
        chi2,
        dof,
        pval,
        spread,
        khat,
    )


class Running(NamedTuple):
    """lam(Lambda) over a cutoff grid and the fitted power law lam ∝ Lambda^slope.

    `couplings`: one `LocalCoupling` per cutoff; `slope`/`slope_se`/`slope_ci` (95%, Student t on
    B - 1 jackknife dof) from OLS of log |lam| on log Lambda, on every replica; `local_slope`: the
    exact d log I / d log Lambda at the largest cutoff (minus sign), which the fit approaches;
    `expected`: the dimensional-analysis exponent (`expected_exponent`)."""

    cutoffs: np.ndarray
    couplings: list
    mean: np.ndarray
    mean_se: np.ndarray
    slope: float
    slope_se: float
    slope_ci: tuple[float, float]
    local_slope: float
    expected: float

    def summary(self) -> str:
        lo, hi = self.slope_ci
        return (
            f"lam ∝ Lambda^s over Lambda = {self.cutoffs.min():g}..{self.cutoffs.max():g}: s = {self.slope:.4f} "
            f"± {self.slope_se:.2g} (95% CI {lo:.4f}..{hi:.4f}); local slope at the largest cutoff "
            f"{self.local_slope:.4f}; dimensional analysis {self.expected:g}"
        )


def _ols_slope(logx: np.ndarray, logy: np.ndarray) -> np.ndarray:
    """OLS slope of each row of logy (..., C) on logx (C,)."""
    xc = logx - logx.mean()
    return (logy - logy.mean(-1, keepdims=True)) @ xc / (xc @ xc)


@float64
def kernel_growth(arch: Architecture, x: np.ndarray, far: float = 1e6) -> float:
    """p with K(x, z) ~ |z|^p as |z| -> infinity (numerically, along every axis, both signs; the
    largest over the points); -inf where the kernel decays faster than any power."""
    x = arch.check_points(x)
    d = x.shape[1]
    zs = np.concatenate([np.eye(d), -np.eye(d)])
    k = np.abs(kernel_to(arch, x, np.concatenate([far * zs, 2 * far * zs])))
    k1, k2 = k[:, : 2 * d], k[:, 2 * d :]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.log(k2 / k1) / np.log(2.0)
    p = np.where((k1 == 0) | (k2 == 0) | ~np.isfinite(p), -np.inf, p)
    return float(np.round(np.max(p), 2))


def expected_exponent(arch: Architecture, x: np.ndarray) -> float:
    """Dimensional analysis of lam(Lambda) = G4c / (-I(Lambda)) at large Lambda: with K(x, z) ~ |z|^p
    the vertex integral grows like Lambda^(4p + d), so lam ∝ Lambda^-(4p + d) (ReLU: p = 1, slope
    -(4 + d)); kernels tending to a nonzero constant (Erf, GaussNet with a bias) give -d; a kernel
    decaying faster than |z|^(-d/4) makes I converge, so lam tends to a finite limit (slope 0:
    CosNet, GaussNet without bias)."""
    p = kernel_growth(arch, x)
    d = arch.check_points(x).shape[1]
    return -max(4 * p + d, 0.0) if np.isfinite(p) else 0.0


@float64
def running_coupling(
    corr: Correlators, arch: Architecture, cutoffs, *, tuples=None, n_quad: int = 16, x=None
) -> Running:
    """The local coupling at every cutoff of `cutoffs` (> 0, increasing, all containing the points)
    and the power law fitted to the weighted-mean coupling, with jackknife errors."""
    try:
        cuts = np.asarray(cutoffs, np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise NNFTError(f"cutoffs must be a sequence of positive numbers, got {cutoffs!r}") from None
    if cuts.size < 2 or np.any(~np.isfinite(cuts)) or np.any(cuts <= 0) or np.any(np.diff(cuts) <= 0):
        raise NNFTError(f"cutoffs must be at least two finite, positive, increasing values, got {cutoffs!r}")
    cps = [local_coupling(corr, arch, c, tuples=tuples, n_quad=n_quad, x=x) for c in cuts]
    mean = np.array([c.mean for c in cps])
    reps = np.stack([c.mean_replicas for c in cps], axis=1)  # (B, C)
    if np.any(mean == 0) or np.any(np.sign(reps) != np.sign(mean)):
        raise NNFTNumericalError(
            "running_coupling: the weighted-mean coupling changes sign within its jackknife replicas (not resolved "
            "from zero); no power law can be fitted: measure more networks"
        )
    logx = np.log(cuts)
    slope = float(_ols_slope(logx, np.log(np.abs(mean))))
    slope_reps = _ols_slope(logx, np.log(np.abs(reps)))
    b = reps.shape[0]
    se = float(jackknife_se(slope_reps)) if not corr.exact else 0.0
    tq = float(st.t.ppf(0.975, b - 1))
    top = cps[-1]
    xs = corr.x
    quad_hi = cutoff_quadrature(xs, cuts[-1] * 1.01, n_quad)
    i_hi = vertex_integrals(arch, xs, top.tuples, quad_hi)
    local = float(-np.mean(np.log(i_hi / top.integral)) / np.log(1.01))
    return Running(
        cuts,
        cps,
        mean,
        np.array([c.mean_se for c in cps]),
        slope,
        se,
        (slope - tq * se, slope + tq * se),
        local,
        expected_exponent(arch, xs),
    )
