"""Set partitions, perfect matchings and the partition (moment -> cumulant) formulas.

Shared by the ensemble estimators (unbiased k-statistics), the exact finite-width
cumulants and the Gaussian (Wick) predictions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from functools import cache

import numpy as np

Partition = tuple[tuple[int, ...], ...]

#: E[w^k] for a standard-normal w (the readout weight of i.i.d.-neuron networks), k = 1..6
GAUSS_XI = {1: 0.0, 2: 1.0, 3: 0.0, 4: 3.0, 5: 0.0, 6: 15.0}


@cache
def set_partitions(n: int) -> tuple[Partition, ...]:
    """All set partitions of range(n) (Bell(n) of them), blocks sorted."""
    if n == 0:
        return ((),)
    out = []
    for p in set_partitions(n - 1):
        # put n-1 in its own block, or into each existing block
        out.append(p + ((n - 1,),))
        for i in range(len(p)):
            out.append(p[:i] + (p[i] + (n - 1,),) + p[i + 1 :])
    return tuple(tuple(sorted(q)) for q in out)


@cache
def pair_partitions(n: int) -> tuple[Partition, ...]:
    """Perfect matchings of range(n) (the Wick contractions); empty for odd n."""
    return tuple(p for p in set_partitions(n) if all(len(b) == 2 for b in p))


def moebius(k: int) -> int:
    """(-1)^(k-1) (k-1)!: the Moebius function from a k-block partition to the one-block one."""
    return (-1) ** (k - 1) * math.factorial(k - 1)


def falling(n: float, k: int) -> float:
    """n (n-1) ... (n-k+1)."""
    out = 1.0
    for i in range(k):
        out *= n - i
    return out


@cache
def _refinements(rho: Partition) -> tuple[tuple[int, float], ...]:
    """For each partition pi finer than rho: (|pi|, prod over blocks C of rho of moebius(#pi-blocks in C)),
    together with the block sizes of pi (for moment weights)."""
    per_block = [set_partitions(len(c)) for c in rho]
    out = []
    for choice in itertools.product(*per_block):
        sizes = tuple(len(b) for sub in choice for b in sub)
        merge = 1
        for sub in choice:
            merge *= moebius(len(sub))
        out.append((sizes, merge))
    return tuple(out)


def kstat_coefficients(r: int, n: float, xi: dict[int, float] | None = None) -> dict[Partition, float]:
    """Coefficients a_rho with  kappa_hat = sum_rho a_rho prod_{C in rho} mean(C)  an unbiased
    estimator of the joint cumulant of order r from n i.i.d. samples (a multivariate k-statistic).

    `xi[k]` multiplies each moment block of size k (moments of u = w h with an independent
    w of moments xi, Rao-Blackwellised over w); None means xi = 1.
    """
    out = {}
    for rho in set_partitions(r):
        total = 0.0
        for sizes, merge in _refinements(rho):
            w = 1.0
            if xi is not None:
                for s in sizes:
                    w *= xi.get(s, 0.0)
                if w == 0.0:
                    continue
            k = len(sizes)
            total += moebius(k) * w * merge / falling(n, k)
        out[rho] = total * n ** len(rho)
    return out


def cumulant_from_moments(r: int, moment) -> float:
    """kappa(1..r) = sum_pi moebius(|pi|) prod_{B in pi} moment(B) for a moment function of index blocks."""
    return sum(moebius(len(p)) * math.prod(moment(b) for b in p) for p in set_partitions(r))


def cumulants_with_error(
    r: int, tuples, block_moment: Callable[[tuple[int, ...]], tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """`cumulant_from_moments` with first-order error propagation, for every index tuple of `tuples`
    (T, r) at once: `block_moment(sub)` gives (value, absolute error) of the moment of one sorted
    sub-tuple of indices, each distinct one looked up once. The error is propagated with absolute
    values (a bound when the errors are bounds)."""
    t = np.asarray(tuples, np.int64).reshape(-1, r)
    value, error = np.zeros(len(t)), np.zeros(len(t))
    looked_up: dict[tuple[int, ...], tuple[float, float]] = {}

    def block(b: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        subs, inverse = np.unique(np.sort(t[:, list(b)], axis=1), axis=0, return_inverse=True)
        keys = list(map(tuple, subs.tolist()))
        for key in keys:
            if key not in looked_up:
                looked_up[key] = block_moment(key)
        pairs = [looked_up[key] for key in keys]
        v, e = (np.array(col, np.float64) for col in zip(*pairs, strict=True))
        return v[inverse.ravel()], e[inverse.ravel()]

    for p in set_partitions(r):
        parts = [block(b) for b in p]
        mu = moebius(len(p))
        prod = parts[0][0]
        for v, _ in parts[1:]:
            prod = prod * v
        value += mu * prod
        for i, (_, e) in enumerate(parts):
            others = np.ones(len(t))
            for j, (v, _) in enumerate(parts):
                if j != i:
                    others = others * np.abs(v)
            error += np.where(e != 0, abs(mu) * e * others, 0.0)
    return value, error
