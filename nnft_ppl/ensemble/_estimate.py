"""Correlators and connected correlators from block sums, with jackknife errors.

Raw moments are block means; connected functions are unbiased multivariate
k-statistics (`_combinatorics.kstat_coefficients`). Every estimate comes with its
delete-one-block jackknife replicas, from which the standard error follows.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .._combinatorics import kstat_coefficients, moebius, set_partitions
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
    return block_means(ms.block_sums, ms.block_counts)


def block_means(sums: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From block sums (..., B, K) and counts (..., B): the full-sample means then the B
    leave-one-block-out means (..., B + 1, K), and their sample counts (..., B + 1)."""
    tot, n = sums.sum(-2), counts.sum(-1)
    loo = (tot[..., None, :] - sums) / (n[..., None] - counts)[..., None]
    m = np.concatenate([(tot / n[..., None])[..., None, :], loo], axis=-2)
    return m, np.concatenate([n[..., None], n[..., None] - counts], axis=-1).astype(np.float64)


def tensor_sum(est: Estimate, tuples) -> Estimate:
    """Sum over every entry of the full symmetric tensor, from values over sorted tuples."""
    w = np.asarray([multiplicity(t) for t in tuples], np.float64)
    return Estimate(np.asarray(est.value @ w), est.replicas @ w)


def moments(ms: MomentSums, tuples) -> Estimate:
    """E[phi(x_i1)...phi(x_ik)] for each (sorted) tuple."""
    if isinstance(ms, TiltedSums):
        return Estimate(*tilted_moments(ms, [tuple(t) for t in tuples]))
    cols = ms.basis.columns(np.asarray([tuple(t) for t in tuples], np.int64))
    m, _ = _means(ms)
    return Estimate(m[0, cols], m[1:, cols])


#: tuples per slice in `cumulants` (the gathered blocks of one slice stay in cache-sized memory)
_SLICE = 2048


@lru_cache(maxsize=8)
def _plugin_coeffs(r: int) -> np.ndarray:
    """The moment-cumulant coefficients moebius(|rho|) over the set partitions of range(r)."""
    return np.asarray([moebius(len(rho)) for rho in set_partitions(r)], np.float64)


@lru_cache(maxsize=64)
def _coeffs(r: int, n: float, xi_items: tuple | None):
    c = kstat_coefficients(r, n, None if xi_items is None else dict(xi_items))
    return np.asarray([c[rho] for rho in set_partitions(r)])


def cumulants(ms: MomentSums, tuples, xi: dict[int, float] | None = None) -> Estimate:
    """Unbiased joint cumulants kappa(phi(x_i1), ..., phi(x_ir)) for tuples of one order r.

    With `xi`, the samples are h and the cumulants are those of u = w h for an independent
    w with moments xi (the Rao-Blackwellised neuron-level estimator). Sums of conditional moments
    (`MomentSums.conditional`) give plug-in cumulants (the moment-cumulant formula on the block
    means: bias O(1/n), against standard errors of O(1/sqrt(n))).
    """
    if isinstance(ms, TiltedSums):
        return Estimate(*tilted_cumulants(ms, tuples, xi))
    m, ns = _means(ms)
    out = cumulant_rows(ms.basis, m, ns, tuples, xi, getattr(ms, "conditional", False))
    return Estimate(out[:, 0].copy(), np.ascontiguousarray(out[:, 1:].T))


def cumulant_rows(basis: MonomialBasis, m, ns, tuples, xi=None, conditional: bool = False) -> np.ndarray:
    """`cumulants` of every row of moment means m (J, K) over `basis`, each of ns[j] samples: (T, J)."""
    tuples = [tuple(t) for t in tuples]
    r = len(tuples[0])
    xi_items = None if xi is None else tuple(sorted(xi.items()))
    if conditional:
        coef = np.broadcast_to(_plugin_coeffs(r), (len(ns), len(set_partitions(r))))
    else:
        coef = np.stack([_coeffs(r, float(n), xi_items) for n in ns])  # (J, R)
    idx = _block_columns(basis, tuple(tuples))
    mt = np.ascontiguousarray(m.T)  # (K, J): a gathered column is one contiguous row
    out = np.zeros((len(tuples), m.shape[0]))
    for lo in range(0, len(tuples), _SLICE):  # tuple slices bound the memory of the gathered blocks
        sl = slice(lo, lo + _SLICE)
        gathered: dict[int, np.ndarray] = {}
        for j, blocks in enumerate(idx):
            prod = None
            for cols in blocks:
                g = gathered.get(id(cols))
                if g is None:
                    g = gathered[id(cols)] = mt[cols[sl]]
                prod = g * coef[None, :, j] if prod is None else np.multiply(prod, g, out=prod)
            out[sl] += prod
    return out


@lru_cache(maxsize=32)
def _block_columns(basis: MonomialBasis, tuples: tuple) -> list[list[np.ndarray]]:
    """For each set partition of range(r), the basis columns of every block's sub-tuples."""
    arr = np.sort(np.asarray(tuples, np.int64), axis=1)
    r = arr.shape[1]
    cache: dict[tuple[int, ...], np.ndarray] = {}
    res = []
    for rho in set_partitions(r):
        cols = []
        for block in rho:
            if block not in cache:
                cache[block] = basis.columns(arr[:, list(block)])
            cols.append(cache[block])
        res.append(cols)
    return res
