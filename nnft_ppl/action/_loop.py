"""Closing the loop: the effective theory (the NNGP kernel's Gaussian ensemble deformed by the
inferred local coupling, S_int = (lam/4!) integral_box phi^4) against the ensemble it came from.

The effective theory's correlators come from `nnft_ppl.deform`'s Feynman rules on the cutoff box
(the same composite quadrature as the coupling): at first order G4c_eff = -lam integral K K K K
(`deform.first_order` with `Phi4`), and its leading six-point function is the O(lam^2) tree,

    G6c_eff(x1..x6) = lam^2 sum_{10 splits {abc}{def}} integral dz dw K_az K_bz K_cz K(z,w) K_dw K_ew K_fw,

(G6c vanishes at first order). Both are computed on every jackknife replica of lam and compared with
the ensemble's measured G4c, G6c tuple by tuple (the difference jackknifed jointly, Bonferroni 4 SE).
The first-order mass shift (tadpole) is not included: G2 = K is the ensemble's, by construction.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from .._errors import NNFTError
from .._tensors import sorted_tuples
from .._x64 import float64
from ..architectures import Architecture
from ..deform import Phi4, first_order
from ..stats import jackknife_se, se_threshold
from ._correlators import Correlators
from ._integrals import cutoff_quadrature, kernel_to
from ._local import LocalCoupling

_SPLITS = tuple((s, tuple(i for i in range(6) if i not in s)) for s in itertools.combinations(range(6), 3) if 0 in s)


class Compared(NamedTuple):
    """Measured and effective-theory values of one connected correlator over sorted tuples, the
    SE of their difference and its z-scores (jackknifed jointly: the coupling comes from the same
    blocks) and the Bonferroni 4-SE threshold over the tuples."""

    tuples: np.ndarray
    measured: np.ndarray
    measured_se: np.ndarray
    effective: np.ndarray
    effective_se: np.ndarray
    diff_se: np.ndarray
    z: np.ndarray
    threshold: float

    @property
    def max_z(self) -> float:
        return float(np.max(np.abs(self.z))) if len(self.z) else 0.0

    @property
    def closes(self) -> bool:
        """Every compared tuple within the threshold."""
        return self.max_z < self.threshold

    @property
    def resolved(self) -> int:
        """How many measured values are resolved (> 4 SE from 0)."""
        return int(np.sum(np.abs(self.measured) > 4 * self.measured_se))


class Closure(NamedTuple):
    """G4c and G6c of the effective theory against the ensemble's (`g6` None without 6th order)."""

    coupling: float
    cutoff: float
    g4: Compared
    g6: Compared | None

    def summary(self) -> str:
        def one(name, c):
            return (
                f"{name}: max |z| = {c.max_z:.2f} (threshold {c.threshold:.2f}) over {len(c.z)} tuples, "
                f"{c.resolved} resolved -> {'closes' if c.closes else 'does NOT close'}"
            )

        parts = [f"lam = {self.coupling:.5g} at Lambda = {self.cutoff:g}", one("G4c", self.g4)]
        if self.g6 is not None:
            parts.append(one("G6c (O(lam^2) tree)", self.g6))
        return "; ".join(parts)


def tree_six(kx: np.ndarray, kzz: np.ndarray, w: np.ndarray, tuples: np.ndarray) -> np.ndarray:
    """The unit-coupling O(lam^2) tree: sum over the 10 splits of integral dz dw (3 legs) K(z,w) (3 legs)."""
    out = np.zeros(tuples.shape[0])
    for a, b in _SPLITS:
        left = w * kx[tuples[:, a[0]]] * kx[tuples[:, a[1]]] * kx[tuples[:, a[2]]]  # (T, Q)
        right = w * kx[tuples[:, b[0]]] * kx[tuples[:, b[1]]] * kx[tuples[:, b[2]]]
        out += np.einsum("tq,qr,tr->t", left, kzz, right)
    return out


def _compare(meas, meas_r, eff, eff_r, tuples, n_blocks) -> Compared:
    se_diff = jackknife_se(meas_r - eff_r)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se_diff > 0, (meas - eff) / se_diff, np.where(np.isclose(meas, eff), 0.0, np.inf))
    thr = se_threshold(len(tuples), 4.0, n_blocks - 1)
    return Compared(tuples, meas, jackknife_se(meas_r), eff, jackknife_se(eff_r), se_diff, z, thr)


@float64
def close_loop(corr: Correlators, arch: Architecture, coupling: LocalCoupling, *, x=None, n_quad: int = 16) -> Closure:
    """Compare the effective theory deformed by `coupling` (its weighted mean, on its cutoff box)
    with the ensemble's measured G4c and (if measured) G6c, tuple by tuple in standard errors."""
    xs = corr.check_against(arch, x)
    if not isinstance(coupling, LocalCoupling):
        raise NNFTError(f"coupling: expected a LocalCoupling, got {type(coupling).__name__}")
    if coupling.mean_replicas.shape[0] != corr.n_blocks:
        raise NNFTError("coupling: fitted on other correlators (another number of jackknife blocks)")
    p = xs.shape[0]
    quad = cutoff_quadrature(xs, coupling.cutoff, n_quad)
    lam, lam_r = coupling.mean, np.asarray(coupling.mean_replicas)
    unit4 = first_order(arch, Phi4(1.0), quad, xs, 4)  # -integral K K K K
    t4 = np.asarray(sorted_tuples(p, 4), np.int64)
    g4 = corr.connected_at(4)
    cols4 = np.array([corr.index(4)[tuple(t)] for t in t4])
    u4 = unit4[tuple(t4.T)]
    c4 = _compare(g4.value[cols4], g4.replicas[:, cols4], lam * u4, lam_r[:, None] * u4, t4, corr.n_blocks)
    c6 = None
    if 6 in corr.connected:
        t6 = np.asarray(sorted_tuples(p, 6), np.int64)
        z = np.asarray(quad.points)
        kx, kzz = kernel_to(arch, xs, z), kernel_to(arch, z, z)
        u6 = tree_six(kx, kzz, np.asarray(quad.weights), t6)
        g6 = corr.connected_at(6)
        cols6 = np.array([corr.index(6)[tuple(t)] for t in t6])
        c6 = _compare(g6.value[cols6], g6.replicas[:, cols6], lam**2 * u6, lam_r[:, None] ** 2 * u6, t6, corr.n_blocks)
    return Closure(float(lam), float(coupling.cutoff), c4, c6)
