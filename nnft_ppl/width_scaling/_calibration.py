"""Calibration over seeds: do the ensemble estimators' 95% intervals cover the exact value 95%
of the time?

One run of `n_seeds * n_per_seed` networks is split into `n_seeds` independent replicas (seed s
owns networks s * n_per_seed ... (s + 1) * n_per_seed - 1, each drawn from its own key), each
with its own `n_blocks`-block jackknife. The networks are those `ensemble_correlators` draws
from the same key (sample i from `fold_in(key, i)`); the block sums come out of one vectorised
pass instead of the streaming loop, which thousands of tiny blocks would spend on dispatch.
Per replica and order the observable is the smeared cumulant sum_{i..} G_r(x_i, ...) (G2 as a
moment, G4c and G6c as k-statistics); its interval is estimate ± t_{0.975, B-1} SE, compared
with `theory.exact_connected`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from .. import _tails
from .. import _validate as V
from .._cache import RUN_BOUND
from .._errors import NNFTError
from .._tails import khat_flag
from .._tensors import multiplicity
from ..architectures import Architecture
from ..ensemble import MomentSums, MonomialBasis, sorted_tuples
from ..ensemble._estimate import block_means, cumulant_rows
from ..ensemble._stream import as_key
from ..stats import jackknife_se
from ..theory import exact_connected

#: `calibrate_ensemble`'s draw (millions of networks through one compiled program) is run-bound, so it
#: is compiled with `RUN_BOUND` even where XLA_FLAGS lower the optimisation level (the test suite's
#: -O0, for compile-bound work): KAN's draw runs 15x faster, ConformalField's 3x.


class Calibration(NamedTuple):
    """Per seed: `estimate`, `se` and `exact` of one order's smeared cumulant; the k-hat of that
    order's summands (`khat`: the median over seeds of each seed's own k-hat, what a run of one
    seed's size reports; `khat_pooled`: from all seeds' networks together) and the jackknife
    dof. Coverage and z follow from them."""

    order: int
    estimate: np.ndarray
    se: np.ndarray
    exact: float
    khat: float
    khat_pooled: float
    dof: int

    @property
    def z(self) -> np.ndarray:
        return (self.estimate - self.exact) / self.se

    def coverage(self, level: float = 0.95, se_scale: float = 1.0) -> tuple[float, float]:
        """Fraction of intervals estimate ± t SE (SE times `se_scale`) that contain the exact value,
        and its binomial standard error at the nominal `level`."""
        q = stats.t.ppf(0.5 + level / 2, self.dof)
        cov = float(np.mean(np.abs(self.z) <= q * se_scale))
        return cov, float(np.sqrt(level * (1 - level) / self.z.size))

    def summary(self) -> dict:
        """Coverage with its binomial SE, the z distribution (mean, sd, P(|z| > 3)) and k-hat."""
        cov, cov_se = self.coverage()
        z = self.z
        return {
            "order": self.order,
            "n_seeds": int(z.size),
            "coverage": cov,
            "coverage_se": cov_se,
            "z_mean": float(z.mean()),
            "z_mean_se": float(z.std(ddof=1) / np.sqrt(z.size)),
            "z_sd": float(z.std(ddof=1)),
            "z_sd_se": float(z.std(ddof=1) / np.sqrt(2 * (z.size - 1))),
            "p_abs_z_gt_3": float(np.mean(np.abs(z) > 3)),
            "khat": self.khat,
            "khat_pooled": self.khat_pooled,
            "khat_flag": khat_flag(self.khat),
        }


def calibrate_ensemble(
    arch: Architecture,
    x,
    n_seeds: int,
    n_per_seed: int,
    key=0,
    *,
    orders=(2, 4, 6),
    n_blocks: int = 32,
    dtype: str = "float64",
) -> dict[int, Calibration]:
    """Estimates of the smeared G2, G4c, G6c over `n_seeds` independent replicas of
    `n_per_seed` networks each, with their jackknife SEs and the exact values."""
    n_seeds = V.integer("n_seeds", n_seeds, minimum=2)
    n_blocks = V.integer("n_blocks", n_blocks, minimum=8)
    n_per_seed = V.integer("n_per_seed", n_per_seed, minimum=4 * n_blocks)
    if n_per_seed % n_blocks:
        raise NNFTError(f"n_per_seed: must be a multiple of n_blocks ({n_blocks}), got {n_per_seed}")
    orders = tuple(int(r) for r in orders)
    if not orders or any(r not in (2, 4, 6) for r in orders):
        raise NNFTError(f"orders: choose among 2, 4, 6; got {orders}")
    x = arch.check_points(x)
    ms, tops = block_moment_sums(
        arch, x, n_seeds * n_per_seed, key, n_seeds * n_blocks, max(orders), dtype, group=n_per_seed, optimize=True
    )
    k_seed = {r: _max_over_series(_tails.khat_rows(tops, n_per_seed, r)) for r in orders}
    floor = arch.predicted_khat(x, orders, n_per_seed) or {}  # as ensemble_correlators reports it
    k_seed = {r: np.maximum(k, float(np.max(floor[r]))) if r in floor else k for r, k in k_seed.items()}
    out = {}
    for r in orders:
        exact = float(np.sum(exact_connected(arch, x, r)))
        est, se = _per_seed(ms, n_seeds, r)
        out[r] = Calibration(r, est, se, exact, float(np.median(k_seed[r])), float(ms.khat[r]), n_blocks - 1)
    return out


def _per_seed(ms: MomentSums, n_seeds: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Each seed's smeared order-r estimate (G2 a moment, else a k-statistic) and its jackknife SE over
    the seed's own blocks: `tensor_sum(moments | cumulants)` of each seed's part, all seeds in one pass."""
    tl = sorted_tuples(ms.basis.n_points, r)
    k = ms.block_sums.shape[1]
    m, ns = block_means(ms.block_sums.reshape(n_seeds, -1, k), ms.block_counts.reshape(n_seeds, -1))
    rows = m.reshape(-1, k)  # seed s's full-sample mean, then its leave-one-block-out means
    cols = ms.basis.columns(np.asarray(tl, np.int64))
    vals = rows[:, cols].T if r == 2 else cumulant_rows(ms.basis, rows, ns.ravel(), tl)
    smeared = (np.asarray([multiplicity(t) for t in tl], np.float64) @ vals).reshape(n_seeds, -1)
    return smeared[:, 0], jackknife_se(smeared[:, 1:], axis=1)


def _max_over_series(k: np.ndarray) -> np.ndarray:
    """Per row of (G, S) k-hats the largest that is not nan (nan where all are): `max_khat` per group."""
    finite = ~np.isnan(k)
    return np.where(finite.any(axis=1), np.max(np.where(finite, k, -np.inf), axis=1), np.nan)


def block_moment_sums(
    arch,
    x,
    n: int,
    key,
    n_blocks: int,
    max_order: int,
    dtype: str = "float64",
    group: int | None = None,
    optimize: bool = False,
) -> tuple[MomentSums, np.ndarray]:
    """`MomentSums` of n networks in `n_blocks` equal blocks, with the tails and k-hat of
    `ensemble_correlators` (same networks for the same key), computed in large vectorised chunks;
    and the largest |phi(x_i)| and |sum_i phi(x_i)| of each consecutive `group` networks (a multiple
    of the block size; (G, P + 1, M) array), for the k-hat a run of that size would report.
    `optimize` compiles the draw with XLA's full back-end optimisation whatever XLA_FLAGS say
    (`nnft_ppl._cache.RUN_BOUND`); by default it is built as `ensemble_correlators`' step is, bit for bit the same."""
    if n % n_blocks:
        raise NNFTError(f"n: must be a multiple of n_blocks ({n_blocks}), got {n}")
    key, per = as_key(key), n // n_blocks
    group = per if group is None else int(group)
    if group % per or n % group:
        raise NNFTError(f"group: must be a multiple of the block size {per} dividing n = {n}, got {group}")
    basis = MonomialBasis.full(x.shape[0], max_order)
    jdtype = np.dtype(dtype)
    xj = np.asarray(x, jdtype)
    chunk = group * max(1, 2**17 // group)
    keep, g_top = _tails.keep_size(n), _tails.keep_size(group)

    @functools.partial(jax.jit, compiler_options=RUN_BOUND if optimize else None)
    def draw(start):
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(start + jnp.arange(chunk, dtype=jnp.uint32))
        phi = arch.sample_fields(keys, xj, jdtype).astype(jnp.float64)
        mono = jnp.concatenate(basis.evaluate(phi), axis=1)
        series = jnp.abs(jnp.concatenate([phi, jnp.sum(phi, axis=1, keepdims=True)], axis=1))
        return mono.reshape(chunk // per, per, -1).sum(1), series.T

    # the largest |y| are selected on the host (np.partition is linear; a device top_k is a sort, and
    # took 60% of this draw's run time on a CPU, measured)
    sums, tails, groups = [], None, []
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        part, series = draw(jnp.uint32(start))
        series = np.asarray(series)[:, :m]  # (P + 1, m)
        sums.append(np.asarray(part)[: m // per])
        by_group = np.moveaxis(series.reshape(series.shape[0], m // group, group), 0, 1)
        groups.append(np.partition(by_group, group - g_top, axis=2)[:, :, group - g_top :])
        tails = _tails.merge_top(tails, series, keep)
    block_sums = np.concatenate(sums)
    if not np.all(np.isfinite(block_sums)):
        raise NNFTError("arch: non-finite field values; check the parameter scales")
    khat = {r: _tails.max_khat(tails, n, r) for r in range(1, max_order + 1)}
    khat = _tails.with_prediction(khat, arch.predicted_khat(x, range(1, max_order + 1), n))
    return MomentSums(basis, block_sums, np.full(n_blocks, per, np.int64), tails, khat), np.concatenate(groups)


def zoo_entries(width: int, d: int = 1) -> dict[str, Architecture]:
    """Every zoo entry with exact cumulants (the `ExactCumulants` capability: the i.i.d.-neuron
    architectures and LinearFeatures) at `width` with default parameters, LinearFeatures with
    non-Gaussian (uniform) weights so its connected functions do not vanish."""
    from ..architectures import REGISTRY, ZOO_NAMES, ExactCumulants, LinearFeatures

    out: dict[str, Architecture] = {}
    for name in ZOO_NAMES:
        cls = REGISTRY[name]
        if issubclass(cls, ExactCumulants):
            out[name] = cls(width=width, d=d, **({"weights": "uniform"} if cls is LinearFeatures else {}))
    return out
