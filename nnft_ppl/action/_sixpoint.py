"""The six-point prediction of the inferred local action (arXiv:2008.08601, sec. 4.3).

With G2 = K exactly and a local quartic vertex lam at first order, the full six-point function's
deviation from the Gaussian (Wick) value is the 15 ways of pairing two legs by a propagator and
attaching the other four to the vertex:

    G6 - Wick6(K) = sum_{pairs (e,f)} K(x_e, x_f) G4c_loc(rest) + G6c,   G4c_loc = -lam I_rest(Lambda),

with G6c = O(lam^2) = O(1/N^2). `tree=True` (the default) predicts G6c by the quartic coupling's tree
level (two vertices joined by a propagator, `_loop.tree_six`); `tree=False` drops it: the first-order
prediction, whose residual is then the ensemble's own G6c. The ensemble's G6c is in general not the
quartic tree: at O(1/N^2) its action has a sextic vertex too (arXiv:2307.03223; `amputate6`). For
ReLU at width 20 with no bias (phi = x Z, Z a sum of N neurons u = a relu(w)), G6c = kappa6(u)/N^2 with
kappa6(u) = 82.5, while the quartic tree gives 10 kappa4(u)^2/kappa2(u)/N^2 = 281/N^2. Measured and
predicted values share the ensemble's jackknife blocks, so their difference is jackknifed replica by
replica.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from .._combinatorics import pair_partitions
from .._errors import NNFTError
from .._tensors import sorted_tuples
from .._x64 import float64
from ..architectures import Architecture
from ..stats import jackknife_se, se_threshold
from ._correlators import Correlators
from ._integrals import cutoff_quadrature, kernel_to, vertex_integrals
from ._local import LocalCoupling
from ._loop import tree_six

_PAIRS = tuple(itertools.combinations(range(6), 2))


class SixPoint(NamedTuple):
    """Measured and predicted G6 - Wick6(K) over sorted 6-tuples.

    `measured`/`measured_se`; `predicted`/`predicted_se` (from the local coupling); `from_g4c`: the
    same 15-term sum with the measured G4c (no locality assumed: it differs from `measured` by G6c
    only); `z`: (measured - predicted) / `diff_se`, the SE of the difference (jackknifed jointly); `threshold`: the
    Bonferroni-corrected 4-SE threshold over the tuples; `khat`: the 6th-order summands' k-hat."""

    tuples: np.ndarray
    measured: np.ndarray
    measured_se: np.ndarray
    predicted: np.ndarray
    predicted_se: np.ndarray
    from_g4c: np.ndarray
    z: np.ndarray
    z_g4c: np.ndarray
    threshold: float
    khat: float
    diff_se: np.ndarray

    @property
    def max_z(self) -> float:
        return float(np.max(np.abs(self.z)))

    @property
    def resolved(self) -> np.ndarray:
        """Tuples whose measured deviation from the Gaussian is resolved (> 4 SE)."""
        return np.abs(self.measured) > 4 * self.measured_se

    def summary(self) -> str:
        return (
            f"G6 - Wick6(K) at {len(self.tuples)} tuples ({int(self.resolved.sum())} resolved > 4 SE): "
            f"local-coupling prediction max |z| = {self.max_z:.2f} (threshold {self.threshold:.2f}); "
            f"with the measured G4c max |z| = {np.max(np.abs(self.z_g4c)):.2f}"
        )


def _wick6(k: np.ndarray, tuples: np.ndarray) -> np.ndarray:
    out = np.zeros(tuples.shape[0])
    for part in pair_partitions(6):
        term = np.ones(tuples.shape[0])
        for a, b in part:
            term = term * k[tuples[:, a], tuples[:, b]]
        out += term
    return out


def _pair_sum(k: np.ndarray, g4: np.ndarray, idx4: dict, tuples: np.ndarray) -> np.ndarray:
    """sum over the 15 pairs (e, f) of K(x_e, x_f) g4(rest) for each 6-tuple; g4 (..., T4)."""
    out = np.zeros((*g4.shape[:-1], tuples.shape[0]))
    for e, f in _PAIRS:
        rest = [i for i in range(6) if i not in (e, f)]
        cols = np.array([idx4[tuple(sorted(t[rest]))] for t in tuples])
        out = out + k[tuples[:, e], tuples[:, f]] * g4[..., cols]
    return out


@float64
def six_point_prediction(
    corr: Correlators,
    arch: Architecture,
    coupling: LocalCoupling,
    *,
    tuples=None,
    x=None,
    n_quad: int = 16,
    tree: bool = True,
) -> SixPoint:
    """Predict G6 - Wick6(K) from the local coupling `coupling` (fitted on these correlators, at its
    cutoff; with `tree` its O(lam^2) tree-level G6c) and compare with the measured full G6 of `corr`,
    tuple by tuple in standard errors."""
    xs = corr.check_against(arch, x)
    if not isinstance(coupling, LocalCoupling):
        raise NNFTError(f"coupling: expected a LocalCoupling, got {type(coupling).__name__}")
    if not arch.exact_two_point:
        raise NNFTError(f"arch: {arch.name}'s G2 is not its kernel at finite width; the prediction assumes it is")
    p = xs.shape[0]
    if coupling.mean_replicas.shape[0] != corr.n_blocks:
        raise NNFTError("coupling: fitted on other correlators (another number of jackknife blocks)")
    g6 = corr.full_at(6)
    idx6 = corr.index(6)
    t6 = np.asarray(sorted_tuples(p, 6), np.int64) if tuples is None else np.sort(np.asarray(tuples, np.int64), 1)
    if t6.ndim != 2 or t6.shape[1] != 6 or t6.min() < 0 or t6.max() >= p:
        raise NNFTError(f"tuples: expected (T, 6) point indices in 0..{p - 1}")
    cols6 = np.array([idx6[tuple(t)] for t in t6])
    k = kernel_to(arch, xs, xs)
    wick = _wick6(k, t6)
    meas, meas_r = g6.value[cols6] - wick, g6.replicas[:, cols6] - wick
    t4 = np.asarray(sorted_tuples(p, 4), np.int64)
    idx4 = corr.index(4)
    quad = cutoff_quadrature(xs, coupling.cutoff, n_quad)
    integral = vertex_integrals(arch, xs, t4, quad)
    pred = _pair_sum(k, -coupling.mean * integral, idx4, t6)
    pred_r = _pair_sum(k, -coupling.mean_replicas[:, None] * integral[None, :], idx4, t6)
    if tree:
        z = np.asarray(quad.points)
        u6 = tree_six(kernel_to(arch, xs, z), kernel_to(arch, z, z), np.asarray(quad.weights), t6)
        pred, pred_r = pred + coupling.mean**2 * u6, pred_r + np.square(coupling.mean_replicas)[:, None] * u6
    g4 = corr.connected_at(4)
    via, via_r = _pair_sum(k, g4.value, idx4, t6), _pair_sum(k, g4.replicas, idx4, t6)
    se_diff, se_via = jackknife_se(meas_r - pred_r), jackknife_se(meas_r - via_r)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se_diff > 0, (meas - pred) / se_diff, np.where(meas == pred, 0.0, np.inf))
        z_via = np.where(se_via > 0, (meas - via) / se_via, np.where(np.isclose(meas, via), 0.0, np.inf))
    thr = se_threshold(len(t6), 4.0, corr.n_blocks - 1)
    khat = float((corr.khat or {}).get(6, float("nan")))
    return SixPoint(t6, meas, jackknife_se(meas_r), pred, jackknife_se(pred_r), via, z, z_via, thr, khat, se_diff)
