"""Correlators and connected correlators from block sums, with jackknife errors.

Raw moments are block means; connected functions are unbiased multivariate
k-statistics (`_combinatorics.kstat_coefficients`). Every estimate comes with its
delete-one-block jackknife replicas, from which the standard error follows.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .._combinatorics import kstat_coefficients, set_partitions
from .._tensors import multiplicity
from ..stats import jackknife_se
from ._basis import MonomialBasis
from ._stream import MomentSums
from ._tilted import TiltedSums, tilted_cumulants, tilted_moments


class Estimate(NamedTuple):
    """Values over index tuples, and their jackknife replicas (B, T)."""

    value: np.ndarray
    replicas: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return jackknife_se(self.replicas)

    def map(self, fn) -> Estimate:
        """Apply a function (linear or not) to the value and to every replica."""
        return Estimate(fn(self.value), np.stack([fn(r) for r in self.replicas]))


def _means(ms: MomentSums) -> tuple[np.ndarray, np.ndarray]:
    """Full-sample means (first row) then the B leave-one-block-out means; and the counts."""
    tot = ms.block_sums.sum(0)
    n = ms.block_counts.sum()
    loo = (tot[None, :] - ms.block_sums) / (n - ms.block_counts)[:, None]
    return np.vstack([tot / n, loo]), np.concatenate([[n], n - ms.block_counts]).astype(np.float64)


def tensor_sum(est: Estimate, tuples) -> Estimate:
    """Sum over every entry of the full symmetric tensor, from values over sorted tuples."""
    w = np.asarray([multiplicity(t) for t in tuples], np.float64)
    return Estimate(np.asarray(est.value @ w), est.replicas @ w)


def moments(ms: MomentSums, tuples) -> Estimate:
    """E[phi(x_i1)...phi(x_ik)] for each (sorted) tuple."""
    if isinstance(ms, TiltedSums):
        return Estimate(*tilted_moments(ms, [tuple(t) for t in tuples]))
    cols = np.asarray([ms.basis.index[tuple(sorted(t))] for t in tuples])
    m, _ = _means(ms)
    return Estimate(m[0, cols], m[1:, cols])


@lru_cache(maxsize=64)
def _coeffs(r: int, n: float, xi_items: tuple | None):
    c = kstat_coefficients(r, n, None if xi_items is None else dict(xi_items))
    return np.asarray([c[rho] for rho in set_partitions(r)])


def cumulants(ms: MomentSums, tuples, xi: dict[int, float] | None = None) -> Estimate:
    """Unbiased joint cumulants kappa(phi(x_i1), ..., phi(x_ir)) for tuples of one order r.

    With `xi`, the samples are h and the cumulants are those of u = w h for an independent
    w with moments xi (the Rao-Blackwellised neuron-level estimator).
    """
    if isinstance(ms, TiltedSums):
        return Estimate(*tilted_cumulants(ms, tuples, xi))
    tuples = [tuple(t) for t in tuples]
    r = len(tuples[0])
    m, ns = _means(ms)
    xi_items = None if xi is None else tuple(sorted(xi.items()))
    coef = np.stack([_coeffs(r, float(n), xi_items) for n in ns])  # (J, R)
    idx = _block_columns(ms.basis, tuple(tuples))
    out = np.zeros((m.shape[0], len(tuples)))
    for j in range(len(set_partitions(r))):
        prod = np.ones_like(out)
        for cols in idx[j]:
            prod *= m[:, cols]
        out += coef[:, j : j + 1] * prod
    return Estimate(out[0], out[1:])


@lru_cache(maxsize=32)
def _block_columns(basis: MonomialBasis, tuples: tuple) -> list[list[np.ndarray]]:
    r = len(tuples[0])
    res = []
    for rho in set_partitions(r):
        res.append([np.asarray([basis.index[tuple(sorted(t[i] for i in block))] for t in tuples]) for block in rho])
    return res
