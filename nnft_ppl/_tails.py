"""Heavy-tail diagnostics: the Pareto k-hat of an estimator's summands.

A Monte Carlo mean (1/n) sum_s y_s is only as good as the tail of |y|. The Pareto k-hat
(Zhang-Stephens / Vehtari et al. 2024, the estimator of arviz-stats) is the shape of a
generalised Pareto fit to the largest M = floor(3 sqrt(n)) values of |y| above the
(M+1)-th largest. What k means for the user:

- k <= 0.5: the variance is finite in practice; the mean and its error bar are reliable (`"ok"`).
- 0.5 < k <= 0.7: the mean converges but slowly; its error bar is not reliable (`"unreliable_se"`).
- k > 0.7: the sample misses most of the mean; the value itself is unreliable (`"unreliable"`).

The tail fit needs only the M + 1 largest values, so a streaming run keeps just those
(`merge_top`), and memory stays flat in n. Since x -> x^r is increasing on |y|, the largest
values of |y|^r are the r-th powers of the largest |y|: one kept tail serves every order.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

#: k above which the mean itself is unreliable
K_UNRELIABLE = 0.7
#: k above which the error bar is unreliable
K_UNRELIABLE_SE = 0.5

KHAT_DOC = (
    "Pareto k-hat of the summands |y|^r of this order (max over points and their sum, and at least "
    "the architecture's predicted k where it has one): "
    "k <= 0.5 value and error bar reliable; 0.5 < k <= 0.7 value usable, error bar not; "
    "k > 0.7 value unreliable (Vehtari et al. 2024)"
)


def khat_flag(k: float) -> Literal["ok", "unreliable_se", "unreliable"]:
    """What a k-hat means: `"ok"` (k <= 0.5: value and error bar reliable), `"unreliable_se"`
    (0.5 < k <= 0.7: the value is usable, its error bar is not) or `"unreliable"` (k > 0.7, or
    no fit possible: the value itself cannot be trusted)."""
    k = float(k)
    if not np.isfinite(k) and k != -np.inf:
        return "unreliable"
    if k > K_UNRELIABLE:
        return "unreliable"
    if k > K_UNRELIABLE_SE:
        return "unreliable_se"
    return "ok"


def tail_size(n: int) -> int:
    """Number of tail draws the k-hat fit uses for n i.i.d. draws (arviz-stats' rule, r_eff = 1)."""
    n = int(n)
    return int(np.floor(3 * np.sqrt(n))) if n > 225 else n // 5


def keep_size(n: int) -> int:
    """How many of the largest values a streaming run keeps: the tail plus its cutoff."""
    return min(tail_size(n) + 1, int(n))


def merge_top(kept: np.ndarray | None, new: np.ndarray, keep: int) -> np.ndarray:
    """The `keep` largest values per row of `kept` and `new` together ((S, *) arrays)."""
    both = new if kept is None else np.concatenate([kept, new], axis=1)
    if both.shape[1] <= keep:
        return both
    return np.partition(both, both.shape[1] - keep, axis=1)[:, -keep:]


def khat_of_top(top: np.ndarray, n: int, power: float = 1.0) -> np.ndarray:
    """k-hat per row of `top` ((S, >= M+1) largest |y| of n draws per series) for |y|^power.

    Equal to arviz-stats' `pareto_khat(|y|^power, r_eff=1, tail="right")` on the full sample. A
    tail without spread (a constant summand) has k = -inf: there is nothing heavy about it.
    """
    from arviz_stats.base.array import array_stats

    exceed, flat = _exceedances(top, n, power)
    if exceed is None:
        return np.full(flat.shape, np.nan)
    out = np.array([array_stats._gpdfit(row)[0] for row in exceed])
    out[flat] = -np.inf
    return out.reshape(flat.shape)


def khat_rows(top: np.ndarray, n: int, power: float = 1.0, *, batch: int = 256) -> np.ndarray:
    """`khat_of_top` for every row of a (..., S, K) stack of kept tails at once: (..., S) k-hats, equal to
    the row-by-row fit to rounding (the same Zhang-Stephens estimate, vectorised over rows in `batch`es;
    6,000 row-by-row fits took 14 s of a calibration, measured)."""
    exceed, flat = _exceedances(top, n, power)
    if exceed is None:
        return np.full(flat.shape, np.nan)
    k = np.concatenate([_gpd_shape(exceed[i : i + batch]) for i in range(0, len(exceed), batch)])
    k[flat.ravel()] = -np.inf
    return k.reshape(flat.shape)


def _exceedances(top: np.ndarray, n: int, power: float) -> tuple[np.ndarray | None, np.ndarray]:
    """The k-hat fit's data for each row of the (..., K) kept tails `top`: the M largest |y|^power above the
    (M+1)-th (rows of (R, M), sorted; None where M < 5, too few to fit), and which rows have no spread
    ((...) booleans). |y| is rescaled by its largest value where the power overflows (k-hat is scale
    invariant)."""
    top = np.sort(np.asarray(top, np.float64), axis=-1)
    rows = top.reshape(-1, top.shape[-1])
    m = tail_size(n)
    if m < 5:
        return None, np.zeros(top.shape[:-1], bool)
    vals = rows[:, -(m + 1) :] ** power
    bad = ~np.all(np.isfinite(vals), axis=1)
    vals[bad] = (rows[bad, -(m + 1) :] / rows[bad, -1:]) ** power
    flat = np.abs(vals[:, -1] - vals[:, 1]) < np.finfo(float).tiny
    return vals[:, 1:] - vals[:, :1], flat.reshape(top.shape[:-1])


def _gpd_shape(ary: np.ndarray) -> np.ndarray:
    """The shape kappa of arviz-stats' empirical-Bayes generalised Pareto fit (`_gpdfit`, prior on kappa
    centred at 0.5) for each row of `ary` (rows sorted ascending): nan where the first quartile does not
    exceed the minimum, inf where the fit is not finite."""
    prior_bs, prior_k = 3, 10
    n = ary.shape[1]
    m_est = 30 + int(n**0.5)
    xstar = ary[:, int((n / 4 + 0.5) - 1)]
    undefined = xstar <= ary[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        b = (1 - np.sqrt(m_est / (np.arange(1, m_est + 1, dtype=float) - 0.5)))[None, :] / (prior_bs * xstar[:, None])
        b = b + 1 / ary[:, -1:]
        k_ary = np.mean(np.log1p(-b[:, :, None] * ary[:, None, :]), axis=2)
        len_scale = n * (np.log(-b / k_ary) - k_ary - 1)
        top = np.max(len_scale, axis=1, keepdims=True)
        w = np.exp(len_scale - (top + np.log(np.sum(np.exp(len_scale - top), axis=1, keepdims=True))))
        w = np.where(w >= 10 * np.finfo(float).eps, w, 0.0)
        w = w / np.sum(w, axis=1, keepdims=True)
        b_post = np.sum(b * w, axis=1)
        kappa = np.mean(np.log1p(-b_post[:, None] * ary), axis=1)
    kappa = (n * kappa + prior_k * 0.5) / (n + prior_k)
    kappa[np.isnan(kappa)] = np.inf
    kappa[undefined] = np.nan
    return kappa


def max_khat(top: np.ndarray, n: int, power: float) -> float:
    """The largest k-hat over the series in `top` for the summands |y|^power (nan-safe)."""
    k = khat_of_top(top, n, power)
    k = k[~np.isnan(k)]
    return float(np.max(k)) if k.size else float("nan")


def lognormal_khat(log_sd, n: int) -> np.ndarray:
    """Expected k-hat of n draws of a lognormal summand exp(log_sd * Z), Z ~ N(0, 1).

    A lognormal has k = 0 asymptotically, but the top 3 sqrt(n) of a finite sample look Pareto
    with a shape that grows linearly in log_sd: k ~= log_sd / (z_n + 0.8) - 0.05, z_n the
    normal (1 - 3/sqrt(n)) quantile. Fitted to measured k-hat (`python benchmarks/khat_calibration.py`):
    within 0.1 of the mean measured k for n in 1e5..1e6 and log_sd in 0.5..8; at smaller n it
    over-predicts (up to 0.25 at n = 1e4, 0.5 at n = 1e3), erring on the side of a warning.
    """
    from scipy.stats import norm

    s = np.asarray(log_sd, np.float64)
    zn = norm.isf(tail_size(n) / n)
    return s / (zn + 0.8) - 0.05


def with_prediction(measured: dict[int, float], predicted: dict[int, np.ndarray] | None) -> dict[int, float]:
    """Per order, the larger of the measured k-hat and the largest predicted k over the points.

    A sample too small to reach the heavy tail measures a small k (it has not seen the tail):
    where the architecture predicts the tail, the prediction bounds the reported k from below.
    """
    if not predicted:
        return dict(measured)
    out = dict(measured)
    for r, k in predicted.items():
        if r in out:
            out[r] = float(np.nanmax([out[r], float(np.max(k))]))
    return out


def warn_heavy(predicted: dict[int, np.ndarray] | None, estimator: str, stacklevel: int = 3) -> None:
    """Warn (before sampling) about the points and orders whose predicted k-hat exceeds 0.5.

    `predicted` maps order -> predicted k per point (from `Architecture.predicted_khat`).
    """
    if not predicted:
        return
    bad = []
    for r, k in sorted(predicted.items()):
        k = np.asarray(k, np.float64)
        idx = np.flatnonzero(k > K_UNRELIABLE_SE)
        if idx.size:
            worst = int(idx[np.argmax(k[idx])])
            bad.append(f"order {r}: points {idx.tolist()} (expected k up to {k[worst]:.2f}, {khat_flag(k[worst])})")
    if bad:
        warnings.warn(
            f"heavy-tailed summands predicted for the {estimator} estimator: " + "; ".join(bad) + ". "
            "k > 0.7: the estimate itself is unreliable; 0.5 < k <= 0.7: its error bar is. "
            "Check the `*_khat` variables of the result.",
            UserWarning,
            stacklevel=stacklevel,
        )
