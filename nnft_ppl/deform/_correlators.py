"""Correlators of sampled fields with Monte Carlo standard errors from the effective sample size.

Every estimate is a smooth function of sample means; its standard error is sd(psi) / sqrt(ESS(psi))
where psi is the estimator's per-draw influence function (the delta method) and ESS is the
autocorrelation-aware multi-chain effective sample size of psi (not the i.i.d. count).

Calibration (benchmarks/nuts_se_calibration.py: the lam = 0 model, CosNet width 4, 3 points, one
vectorized NUTS run split into independent replicas of 8 chains, z = (estimate - exact) / SE per
distinct entry):

- G2 (`mcmc_moments`): calibrated, if anything conservative. 8 x 500 draws: mean z^2 = 0.79 +- 0.08 and
  1.04 +- 0.12 (two runs of 96 replicas), replica scatter / rms SE 0.89 and 0.98 (median over entries),
  no replica over the Bonferroni 3 SE threshold; 8 x 2500 draws (48 replicas): 0.84 +- 0.13.
- G4c (`connected4`): the SE's size is right (scatter / rms SE 0.96 and 1.05 at 8 x 500) but z is not
  normal at this heavy-tailed width: mean z = -0.49 and -0.32, P(|z| > 3) = 4.1% and 3.7% (normal 0.27%),
  5 and 4 of 96 replicas over the Bonferroni 3 SE threshold (0.26 expected). The SE is estimated from the
  same tail-dominated draws: a replica that caught a large excursion has a high estimate and a high SE,
  corr(estimate, SE) = 0.6-0.8, so low estimates come with too small SEs. Exact i.i.d. prior draws of
  the same size show it too (1000 replicas: mean z -0.20, P(|z| > 3) 1.4%), so it is the heavy tail, not
  the ESS (the influence function already carries the covariance of <phi^4> and <phi^2>^2, and its ESS is
  its own, not phi's). It fades with the sample size: 8 x 1500 draws, 64 replicas: mean z -0.23,
  P(|z| > 3) 1.7%, none over the threshold; 8 x 2500, 48 replicas: mean z^2 = 0.98 +- 0.16, P(|z| > 3)
  0.7%, none over. The estimator is kept; narrow-width G4c checks need >~ 10^4 draws.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Array, Float

from .._errors import NNFTError
from .._tensors import expand, sorted_tuple_array, sorted_tuples
from ..stats import mcmc_mean_se

Fields = Float[Array, "C S P"]
Draws = Float[Array, "C S ..."]


class MCMCEstimate(NamedTuple):
    """An estimate from MCMC (or i.i.d.) draws of shape (chains, draws, ...): its value, its Monte Carlo
    standard error (same shape) and the effective sample size behind that error. (Not the ensemble's
    `nnft_ppl.ensemble.Estimate`, which carries jackknife replicas of streamed i.i.d. sums.)"""

    value: np.ndarray
    se: np.ndarray
    ess: np.ndarray


def _check(phi) -> np.ndarray:
    phi = np.asarray(phi, np.float64)
    if phi.ndim != 3 or phi.shape[1] < 4:
        raise NNFTError(f"phi must have shape (chains, draws >= 4, P), got {phi.shape}")
    return phi


def mean_with_se(values: Draws) -> MCMCEstimate:
    """Mean over chains and draws of a per-draw statistic, with SE = sd / sqrt(ESS)."""
    v = np.asarray(values, np.float64)
    if v.ndim < 2 or v.shape[1] < 4:
        raise NNFTError(f"values must have shape (chains, draws >= 4, ...), got {v.shape}")
    return MCMCEstimate(*mcmc_mean_se(v))


def _with_influence(value: np.ndarray, psi: np.ndarray) -> MCMCEstimate:
    _, se, ess = mcmc_mean_se(psi)
    return MCMCEstimate(value, se, ess)


def mcmc_moments(phi: Fields, order: int) -> MCMCEstimate:
    """Full moments G_n(x_i1..x_in) = E[phi_i1 ... phi_in] as (P,)*n tensors with SE."""
    phi = _check(phi)
    p = phi.shape[2]
    tuples = sorted_tuples(p, order)
    prods = np.stack([np.prod(phi[..., list(t)], axis=-1) for t in tuples], axis=-1)
    est = mean_with_se(prods)
    return MCMCEstimate(*(expand(a, p, order) for a in est))


def connected2(phi: Fields) -> MCMCEstimate:
    """The connected two-point function (covariance) with SE."""
    phi = _check(phi)
    c = phi - phi.mean(axis=(0, 1))
    psi = np.einsum("csi,csj->csij", c, c)
    return _with_influence(psi.mean(axis=(0, 1)), psi)


def connected4(phi: Fields) -> MCMCEstimate:
    """The connected four-point function (fourth joint cumulant) as a (P,)^4 tensor with SE.

    The influence function of kappa_4 = m4 - (m2 m2 + 2 perms) in central moments is
    c1c2c3c4 - sum_pairs (c_a c_b K_cd + K_ab c_c c_d) - sum_a c_a M3(others)."""
    phi = _check(phi)
    p = phi.shape[2]
    c = phi - phi.mean(axis=(0, 1))
    flat = c.reshape(-1, p)
    k2 = flat.T @ flat / flat.shape[0]
    m3 = np.einsum("si,sj,sk->ijk", flat, flat, flat) / flat.shape[0]
    tuples = sorted_tuples(p, 4)
    vals, psis = [], []
    for i, j, k, m in tuples:
        prod4 = c[..., i] * c[..., j] * c[..., k] * c[..., m]
        val = prod4.mean() - (k2[i, j] * k2[k, m] + k2[i, k] * k2[j, m] + k2[i, m] * k2[j, k])
        psi = prod4.copy()
        for (a, b), (e, f) in (((i, j), (k, m)), ((i, k), (j, m)), ((i, m), (j, k))):
            psi -= c[..., a] * c[..., b] * k2[e, f] + k2[a, b] * c[..., e] * c[..., f]
        psi -= c[..., i] * m3[j, k, m] + c[..., j] * m3[i, k, m] + c[..., k] * m3[i, j, m] + c[..., m] * m3[i, j, k]
        vals.append(val)
        psis.append(psi)
    est = _with_influence(np.asarray(vals), np.stack(psis, axis=-1))
    return MCMCEstimate(*(expand(a, p, 4) for a in est))


def unique_entries(p: int, order: int) -> tuple[np.ndarray, ...]:
    """Index arrays selecting each distinct entry of a symmetric (P,)*order tensor once."""
    return tuple(sorted_tuple_array(p, order).T)
