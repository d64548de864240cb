"""Significance thresholds in standard errors, corrected for many comparisons."""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from ._errors import NNFTError

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


def jackknife_se(replicas, axis: int = 0) -> np.ndarray:
    """Delete-one-block jackknife standard error from the B leave-one-block-out replicas of an
    estimate (along `axis`): sqrt((B - 1) / B * sum_b (r_b - mean r)^2)."""
    r = np.asarray(replicas, np.float64)
    b = r.shape[axis]
    dev = r - r.mean(axis=axis, keepdims=True)
    return np.sqrt((b - 1) / b * np.sum(dev * dev, axis=axis))


def ess(values) -> np.ndarray:
    """The library's one effective sample size of the mean: NumPyro's multi-chain estimator
    (Geyer's initial monotone sequence over the chain-averaged autocorrelation, no chain
    splitting) of per-draw values (chains, draws, ...), per trailing entry, at least 1.

    A quantity that is constant over every draw has no Monte Carlo error: its ESS is the
    number of draws (not NaN). The convergence gate of `nnft_ppl.deform` uses ArviZ's
    rank-normalised bulk/tail ESS instead; that is a diagnostic of the chains, this is the
    denominator of an error bar."""
    import warnings

    from numpyro.diagnostics import effective_sample_size

    v = np.asarray(values, np.float64)
    if v.ndim < 2:
        raise NNFTError(f"values must have shape (chains, draws, ...), got {v.shape}")
    n = v.shape[0] * v.shape[1]
    const = np.all(v == v[:1, :1], axis=(0, 1))
    with warnings.catch_warnings():  # constant entries divide 0 by 0; they are replaced below
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.asarray(effective_sample_size(v), np.float64)
    return np.where(const, float(n), np.clip(np.nan_to_num(e, nan=1.0), 1.0, None))


def mcmc_mean_se(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over (chain, draw) of per-draw values (chains, draws, ...), its Monte Carlo standard
    error sd / sqrt(ESS) and the ESS (`ess`). A quantity constant over every draw has SE 0."""
    v = np.asarray(values, np.float64)
    e = ess(v)
    flat = v.reshape((-1,) + v.shape[2:])
    const = np.all(flat == flat[:1], axis=0)
    sd = np.where(const, 0.0, flat.std(axis=0, ddof=1))
    return v.mean(axis=(0, 1)), sd / np.sqrt(e), e


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
