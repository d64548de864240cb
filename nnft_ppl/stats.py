"""Significance thresholds in standard errors, corrected for many comparisons."""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

#: two-sided tail probability of a single 4-standard-error comparison
ALPHA_4SE = float(2 * _st.norm.sf(4.0))


def se_threshold(n_compare: int = 1, n_sigma: float = 4.0, dof: int | None = None) -> float:
    """Bonferroni-corrected threshold in standard errors: the family of `n_compare`
    comparisons keeps the false-alarm rate of one `n_sigma` comparison. With `dof`
    (an SE estimated from dof degrees of freedom, e.g. a jackknife over B blocks has
    B - 1) the Student-t quantile is used instead of the normal one."""
    alpha = 2 * _st.norm.sf(n_sigma) / max(int(n_compare), 1)
    if dof is None:
        return float(_st.norm.isf(alpha / 2))
    return float(_st.t.isf(alpha / 2, dof))


def mcmc_mean_se(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over (chain, draw) of per-draw values (chains, draws, ...), its Monte Carlo standard
    error sd / sqrt(ESS) and the ESS (NumPyro's multi-chain estimator; no ArviZ needed)."""
    from numpyro.diagnostics import effective_sample_size

    v = np.asarray(values, np.float64)
    ess = np.clip(np.asarray(effective_sample_size(v), np.float64), 1.0, None)
    sd = v.reshape((-1,) + v.shape[2:]).std(axis=0, ddof=1)
    return v.mean(axis=(0, 1)), sd / np.sqrt(ess), ess


def z_scores(estimate, se, reference) -> np.ndarray:
    """(estimate - reference) / se, elementwise; entries with se == 0 must agree exactly."""
    estimate, se, reference = (np.asarray(a, np.float64) for a in (estimate, se, reference))
    diff = estimate - reference
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.inf))
    return z


def max_abs_z(estimate, se, reference, unique: np.ndarray | None = None) -> tuple[float, int]:
    """Largest |z| over the (unique) entries compared, and how many entries that was."""
    z = np.abs(z_scores(estimate, se, reference))
    if unique is not None:
        z = z[unique]
    return float(np.max(z)), int(z.size)
