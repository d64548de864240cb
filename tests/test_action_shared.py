"""Independence breaking (issue 15, item 4): SharedScaleNet's readouts share one random scale, so G4c
survives N -> infinity and grows with alpha while the 1/N part vanishes."""

from __future__ import annotations

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import action as A
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.stats import se_threshold
from nnft_ppl.theory import exact_connected
from tests.helpers import assert_within_se, sorted_unique

X = np.array([-0.3, 0.4])
ALPHAS = (0.0, 1.0)  # the alpha^2 shape is exact (tested deterministically); two ends resolve c2
# The sampled width: large enough that the 1/N part of G4c (kappa4_CosNet(1) (1 + alpha^2/3) / N, <= 5e-4 here)
# is far below the Monte Carlo SE (0.011..0.035), so the samples test the same thing as at N = 10^4
# (the exact N -> infinity split is tested deterministically above); the collapsed sampler's cost is
# linear in N (6000 networks x 10^4 neurons was most of this file's time).
SCAN_WIDTH = 1_000


def _wick_pairs(k: np.ndarray) -> np.ndarray:
    w = np.einsum("ab,cd->abcd", k, k)
    return w + w.transpose(0, 2, 1, 3) + w.transpose(0, 2, 3, 1)


def test_exact_g4c_has_an_infinite_width_part_and_a_vanishing_one_over_n_part():
    """G4c(N) = (1 + alpha^2/3) kappa4_CosNet(N) + (alpha^2/3) (KK + KK + KK): the N -> infinity limit is
    (alpha^2/3) times the Wick pairs (to 1e-12), and G4c(N) - G4c(inf) is exactly 1/N (times CosNet's
    connected 4-pt at N = 1, scaled by E[s^4])."""
    arch = nn.SharedScaleNet(width=100, alpha=0.7)
    k = np.asarray(arch.nngp_kernel(X, X))
    limit = 0.7**2 / 3 * _wick_pairs(k)
    big = exact_connected(arch, X, 4, width=10**14)
    np.testing.assert_allclose(big, limit, rtol=0, atol=1e-12)
    one_over_n = exact_connected(nn.CosNet(width=1), X, 4) * (1 + 0.7**2 / 3)
    for n in (100, 10_000):
        np.testing.assert_allclose(exact_connected(arch, X, 4, width=n) - limit, one_over_n / n, rtol=1e-9, atol=1e-15)
    no_sharing = exact_connected(nn.SharedScaleNet(width=100, alpha=0.0), X, 4)
    np.testing.assert_allclose(no_sharing, exact_connected(nn.CosNet(width=100), X, 4), rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module")
def scan():
    """Network-level G4c at N = SCAN_WIDTH for alpha in ALPHAS (independent keys)."""
    out = {}
    for a, key in zip(ALPHAS, (40, 42), strict=True):
        arch = nn.SharedScaleNet(width=SCAN_WIDTH, alpha=a)
        out[a] = (arch, ensemble_correlators(arch, X, 6_000, key=key, max_order=4, chunk=3_000, progress=False))
    return out


def test_g4c_at_large_width_matches_exact(scan):
    """Measured G4c at N = SCAN_WIDTH within 4 SE (Bonferroni over alphas and distinct entries) of exact."""
    mask = sorted_unique((2,) * 4)
    est = np.stack([scan[a][1].G4c.values[mask] for a in ALPHAS])
    se = np.stack([scan[a][1].G4c_se.values[mask] for a in ALPHAS])
    ref = np.stack([exact_connected(scan[a][0], X, 4)[mask] for a in ALPHAS])
    assert_within_se(est, se, ref, 64, what="SharedScaleNet G4c")
    assert max(float(scan[a][1].G4c_khat) for a in ALPHAS) < 0.5


def test_g4c_grows_with_alpha_fitted_with_ci(scan):
    """WLS fit of G4c(x1,x1,x2,x2) = c0 + c2 alpha^2 over the scan (alpha = 0 and 1: the fit's CI is the
    two ends' SEs): c2 is resolved (> 4 SE from 0) and its CI covers the exact coefficient
    (kappa4_CosNet(N) + K11 K22 + 2 K12^2) / 3."""
    arch0 = scan[0.0][0]
    y = np.array([float(scan[a][1].G4c.values[0, 0, 1, 1]) for a in ALPHAS])
    s = np.array([float(scan[a][1].G4c_se.values[0, 0, 1, 1]) for a in ALPHAS])
    design = np.stack([np.ones(len(ALPHAS)), np.square(ALPHAS)], axis=1) / s[:, None]
    cov = np.linalg.inv(design.T @ design)
    c0, c2 = cov @ design.T @ (y / s)
    c2_se = float(np.sqrt(cov[1, 1]))
    k = np.asarray(arch0.nngp_kernel(X, X))
    exact_c2 = (float(exact_connected(arch0, X, 4)[0, 0, 1, 1]) + k[0, 0] * k[1, 1] + 2 * k[0, 1] ** 2) / 3
    thr = se_threshold(1, 4, 63)
    assert c2 / c2_se > thr, (c2, c2_se)
    assert abs(c2 - exact_c2) < thr * c2_se, (c2, c2_se, exact_c2)


def test_inferred_coupling_grows_with_alpha_while_the_one_over_n_part_vanishes():
    """The mean local coupling (exact correlators, N = 10^4, Lambda = 4) grows in magnitude like
    alpha^2 (to 1e-3 of its alpha = 1 value: the 1/N part is 1e-4 of it) and is ~1/N at alpha = 0."""
    lam = {}
    for a in (0.0, 0.5, 1.0):
        arch = nn.SharedScaleNet(width=10_000, alpha=a)
        lam[a] = A.local_coupling(A.exact_correlators(arch, X, orders=(4,), full=False), arch, 4.0).mean
    assert abs(lam[0.0]) < 1e-3 * abs(lam[1.0])
    assert abs(lam[1.0]) > abs(lam[0.5]) > abs(lam[0.0])
    assert abs((lam[0.5] - lam[0.0]) / (lam[1.0] - lam[0.0]) - 0.25) < 1e-9
    at_small_n = nn.SharedScaleNet(width=100, alpha=0.0)
    lam_small = A.local_coupling(A.exact_correlators(at_small_n, X, orders=(4,), full=False), at_small_n, 4.0).mean
    np.testing.assert_allclose(lam_small / lam[0.0], 100.0, rtol=1e-9)


def test_bad_alpha_names_the_argument():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(nn.NNFTError, match="alpha"):
            nn.SharedScaleNet(width=3, alpha=bad)


def test_engineered_alpha_realises_the_target_coupling_by_sampling():
    """Engineering (seed 3.3): the alpha at which SharedScaleNet (N = 50) has local coupling lam* = -0.3 at
    Lambda = 3 (exact, to 1e-6), verified by sampling: the measured per-tuple couplings within 4 SE
    (Bonferroni) of the engineered ensemble's exact ones, and their unweighted mean within 4 SE of lam*."""
    e = A.engineer(nn.SharedScaleNet(width=50, alpha=0.0), X, -0.3, 3.0, "alpha", (0.0, 1.0))
    assert 0 < e.value < 1 and abs(e.achieved + 0.3) < 1e-6
    mc = A.measure(e.arch, X, 20_000, key=9, orders=(4,), progress=False)
    lc = A.local_coupling(mc, e.arch, 3.0)
    exact = A.local_coupling(A.exact_correlators(e.arch, X, orders=(4,), full=False), e.arch, 3.0, tuples=lc.tuples)
    assert_within_se(lc.lam, lc.lam_se, exact.lam, mc.n_blocks, what="engineered lam_t")
    if len(lc.tuples) == len(exact.lam):
        reps = lc.lam_replicas.mean(1)
        se = float(np.sqrt((len(reps) - 1) / len(reps) * np.sum((reps - reps.mean()) ** 2)))
        assert abs(lc.lam.mean() - e.achieved) < se_threshold(1, 4, mc.n_blocks - 1) * se
