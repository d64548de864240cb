"""Correlators of sampled fields with Monte Carlo standard errors from the effective sample size.

Every estimate is a smooth function of sample means; its standard error is sd(psi) / sqrt(ESS(psi))
where psi is the estimator's per-draw influence function (the delta method) and ESS is the
autocorrelation-aware multi-chain effective sample size of psi (not the i.i.d. count).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
from jaxtyping import Array, Float

from .._errors import NNFTError
from ..stats import mcmc_mean_se

Fields = Float[Array, "C S P"]
Draws = Float[Array, "C S ..."]


class Estimate(NamedTuple):
    """value and its MC standard error (same shape), and the ESS used."""

    value: np.ndarray
    se: np.ndarray
    ess: np.ndarray


def _check(phi) -> np.ndarray:
    phi = np.asarray(phi, np.float64)
    if phi.ndim != 3 or phi.shape[1] < 4:
        raise NNFTError(f"phi must have shape (chains, draws >= 4, P), got {phi.shape}")
    return phi


def mean_with_se(values: Draws) -> Estimate:
    """Mean over chains and draws of a per-draw statistic, with SE = sd / sqrt(ESS)."""
    v = np.asarray(values, np.float64)
    if v.ndim < 2 or v.shape[1] < 4:
        raise NNFTError(f"values must have shape (chains, draws >= 4, ...), got {v.shape}")
    return Estimate(*mcmc_mean_se(v))


def _with_influence(value: np.ndarray, psi: np.ndarray) -> Estimate:
    _, se, ess = mcmc_mean_se(psi)
    return Estimate(value, se, ess)


def _fill(vals: np.ndarray, tuples, p: int, order: int) -> np.ndarray:
    out = np.empty((p,) * order)
    for v, t in zip(vals, tuples, strict=True):
        for perm in set(itertools.permutations(t)):
            out[perm] = v
    return out


def moments(phi: Fields, order: int) -> Estimate:
    """Full moments G_n(x_i1..x_in) = E[phi_i1 ... phi_in] as (P,)*n tensors with SE."""
    phi = _check(phi)
    p = phi.shape[2]
    tuples = list(itertools.combinations_with_replacement(range(p), order))
    prods = np.stack([np.prod(phi[..., list(t)], axis=-1) for t in tuples], axis=-1)
    est = mean_with_se(prods)
    return Estimate(*(_fill(a, tuples, p, order) for a in est))


def connected2(phi: Fields) -> Estimate:
    """The connected two-point function (covariance) with SE."""
    phi = _check(phi)
    c = phi - phi.mean(axis=(0, 1))
    psi = np.einsum("csi,csj->csij", c, c)
    return _with_influence(psi.mean(axis=(0, 1)), psi)


def connected4(phi: Fields) -> Estimate:
    """The connected four-point function (fourth joint cumulant) as a (P,)^4 tensor with SE.

    The influence function of kappa_4 = m4 - (m2 m2 + 2 perms) in central moments is
    c1c2c3c4 - sum_pairs (c_a c_b K_cd + K_ab c_c c_d) - sum_a c_a M3(others)."""
    phi = _check(phi)
    p = phi.shape[2]
    c = phi - phi.mean(axis=(0, 1))
    flat = c.reshape(-1, p)
    k2 = flat.T @ flat / flat.shape[0]
    m3 = np.einsum("si,sj,sk->ijk", flat, flat, flat) / flat.shape[0]
    tuples = list(itertools.combinations_with_replacement(range(p), 4))
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
    return Estimate(*(_fill(a, tuples, p, 4) for a in est))


def unique_entries(p: int, order: int) -> tuple[np.ndarray, ...]:
    """Index arrays selecting each distinct entry of a symmetric (P,)*order tensor once."""
    tuples = np.asarray(list(itertools.combinations_with_replacement(range(p), order)))
    return tuple(tuples.T)
