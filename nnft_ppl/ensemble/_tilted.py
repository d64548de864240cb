"""Exponentially tilted neuron-level estimator for log-linear neurons (GaussNet).

For h(theta; x) = exp(theta . u(x) - c(x)), theta ~ N(0, Sigma) (`LogLinearNeurons`), the
order-r moments E[h(x_1)...h(x_r)] are estimated from theta drawn from N(Sigma a, Sigma) with
a = r * mean_j u(x_j) (the points' centroid, r times), weighted by the likelihood ratio
exp(-a . theta + a Sigma a / 2). The weighted monomial is exp(theta . (U_t - a) + const) with
U_t = sum_j u(x_tj): its log-sd is |U_t - a|_Sigma, zero for a tuple at the centroid, so
nearby points have near-zero variance where the plain draw (log-sd r sqrt(v)) is heavy-tailed.
Each even order gets its own independent tilted ensemble (key folded with the order); the
jackknife deletes block b from every ensemble at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._combinatorics import set_partitions
from .._errors import NNFTError
from .._tails import lognormal_khat
from .._tensors import sorted_tuples
from ._basis import MonomialBasis
from ._stream import MomentSums, stream_moment_sums


class TiltedSums(NamedTuple):
    """One tilted ensemble per even order r (`runs[r]`, its order-r monomials are the ones used).

    `khat[r]`: the largest Pareto k-hat of the tilted summands an order-r estimate uses (those
    of every run of order <= r, each at least its lognormal prediction, `tilted_log_sd`); see
    `nnft_ppl._tails.khat_flag`.
    """

    runs: dict[int, MomentSums]
    khat: dict[int, float]

    @property
    def block_counts(self) -> np.ndarray:
        return next(iter(self.runs.values())).block_counts

    @property
    def n(self) -> int:
        return int(self.block_counts.sum())


def tilted_sampler(arch, x: np.ndarray, order: int, dtype):
    """keys (M,) -> (M, P) samples y with prod_j y_tj = (likelihood ratio) * prod_j h(x_tj)
    for every order-`order` tuple t: the weight is shared out as w^(1/order) per factor."""
    sigma = np.asarray(arch.loglinear_cov(), np.float64)
    u = np.asarray(arch.loglinear_design(x), np.float64)
    c = np.asarray(arch.loglinear_offset(x), np.float64)
    # a square root of the PSD covariance (eigh, not Cholesky: a scale whose square underflows gives a
    # zero-variance direction, drawn exactly as the prior draws it)
    evals, evecs = np.linalg.eigh(sigma)
    chol = evecs * np.sqrt(np.clip(evals, 0.0, None))
    a = order * u.mean(0)
    mu = sigma @ a
    const = 0.5 * a @ sigma @ a
    dim = sigma.shape[0]

    def sample(keys):
        eps = jax.vmap(lambda k: jax.random.normal(k, (dim,), dtype))(keys).astype(jnp.float64)
        theta = eps @ jnp.asarray(chol.T) + jnp.asarray(mu)
        log_w = const - theta @ jnp.asarray(a)
        log_y = theta @ jnp.asarray(u.T) - jnp.asarray(c) + log_w[:, None] / order
        return jnp.exp(log_y)

    return sample


def tilted_moment_sums(arch, x, n, key, orders, *, n_blocks, chunk, dtype, progress, devices=None) -> TiltedSums:
    """Stream one tilted ensemble of n neurons per order in `orders` (even, ascending)."""
    runs = {}
    for r in orders:
        runs[r] = stream_moment_sums(
            tilted_sampler(arch, x, r, dtype),
            n,
            jax.random.fold_in(key, 1000 + r),
            MonomialBasis.from_tuples(x.shape[0], sorted_tuples(x.shape[0], r)),
            n_blocks=n_blocks,
            chunk=chunk,
            progress=progress,
            desc=f"{arch.name} tilted neurons r={r}",
            cache_key=(arch, np.asarray(x).tobytes(), str(dtype), "tilted", r),
            devices=devices,
        )
    khat, worst = {}, -np.inf
    for r in sorted(runs):
        worst = np.nanmax([worst, runs[r].khat[r], float(lognormal_khat(r * tilted_log_sd(arch, x), n))])
        khat[r] = float(worst)
    return TiltedSums(runs, khat)


def tilted_log_sd(arch, x) -> float:
    """max_j |u(x_j) - centroid|_Sigma: an order-r tilted summand is lognormal with log-sd at most
    r times this (exactly r times it on the diagonal tuple of the farthest point)."""
    sigma = np.asarray(arch.loglinear_cov(), np.float64)
    dev = np.asarray(arch.loglinear_design(x), np.float64)
    dev = dev - dev.mean(0)
    return float(np.sqrt(np.max(np.einsum("pi,ij,pj->p", dev, sigma, dev))))


def _means(ms: MomentSums) -> np.ndarray:
    tot = ms.block_sums.sum(0)
    n = ms.block_counts.sum()
    loo = (tot[None, :] - ms.block_sums) / (n - ms.block_counts)[:, None]
    return np.vstack([tot / n, loo])


def tilted_moments(ts: TiltedSums, tuples) -> tuple[np.ndarray, np.ndarray]:
    """E[h(x_t1)...h(x_tr)] for tuples of one order: value (T,) and jackknife replicas (B, T)."""
    r = len(tuples[0])
    if r not in ts.runs:
        raise NNFTError(f"tuples: order {r} was not sampled by the tilted estimator (orders {sorted(ts.runs)})")
    ms = ts.runs[r]
    cols = np.asarray([ms.basis.index[tuple(sorted(t))] for t in tuples])
    m = _means(ms)[:, cols]
    return m[0], m[1:]


def tilted_cumulants(ts: TiltedSums, tuples, xi: dict[int, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Joint cumulants of u = w h (w independent with moments `xi`; h itself without) over tuples
    of one order, from the per-order tilted moments (plug-in; the bias is O(1/n)): value, replicas."""
    tuples = [tuple(t) for t in tuples]
    r = len(tuples[0])
    means = {k: _means(ms) for k, ms in ts.runs.items()}
    out = None
    for rho in set_partitions(r):
        weight = (-1.0) ** (len(rho) - 1) * math.factorial(len(rho) - 1)
        for block in rho:
            weight *= 1.0 if xi is None else xi[len(block)]
        if weight == 0.0:
            continue
        prod = weight
        for block in rho:
            k = len(block)
            if k not in ts.runs:
                raise NNFTError(f"xi: moments of order {k} are needed but only orders {sorted(ts.runs)} were sampled")
            index = ts.runs[k].basis.index
            cols = np.asarray([index[tuple(sorted(t[i] for i in block))] for t in tuples])
            prod = prod * means[k][:, cols]
        out = prod if out is None else out + prod
    return out[0], out[1:]
