"""Closing the loop by sampling (issue 15, item 5): the effective theory, CosNet's NNGP Gaussian ensemble
on the cutoff box deformed by the inferred (lam/4!) :phi^4:, sampled with deform's NUTS; its G2, G4c and
G6c (Schwinger-Dyson estimators, ESS-aware SEs) against CosNet's exact finite-width correlators.

Width 64 (lam = -0.074 at Lambda = 3): the O(lam^2) part of G4c (relative size ~ |lam|, resolved at
widths 16 and 32 in benchmarks/action_sampled_loop.py) is below the Monte Carlo error here.

Tails: the Schwinger-Dyson G4c averages degree-6 polynomials of a near-Gaussian field, whose Pareto
k-hat reads 0.6-1 at these sizes (every moment is finite; the Pareto fit reads stretched-exponential tails
as heavy); the SEs are checked against independent replicas instead (benchmarks/action_sampled_loop.py
`calibrate`): at 16 chains x 1000 draws, 64 replicas cover their 95% intervals 0.938 +- 0.027 of the time
but |z| > 3 in 2.2% of 320 (Gaussian: 0.27%); at this test's 16 x 4000 (`calibrate(groups=64, per=16,
draws=4000, warmup=300, chain_se=False)`, 1,158 s) coverage 0.938 +- 0.027, mean z^2 1.05 +- 0.18, no
|z| > 3 in 320, median k-hat 0.61: calibrated at this size. The power check below inflates the SEs by
1.5 all the same. G2's terms (degree 4) pass k < 0.5."""

from __future__ import annotations

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import action as A
from nnft_ppl._errors import NNFTError
from nnft_ppl.stats import se_threshold

X = np.array([-0.25, 0.25])
CUTOFF, NQ = 3.0, 4


@pytest.fixture(scope="module")
def sampled():
    arch = nn.CosNet(width=64)
    ex = A.exact_correlators(arch, X, orders=(4, 6), full=False)
    lc = A.local_coupling(ex, arch, CUTOFF, n_quad=NQ)
    quad = A.cutoff_quadrature(X[:, None], CUTOFF, NQ)
    (th,) = A.sample_effective(
        arch, [lc.mean], X[:, None], quad, 3, num_chains=16, num_samples=4000, num_warmup=300, chain_method="sequential"
    )
    return arch, ex, lc, th, A.close_loop_sampled(ex, arch, lc, th)


def test_sampled_effective_theory_closes_the_loop_for_cosnet(sampled):
    """Every G2, G4c and G6c entry of the sampled theory within 4 SE (Bonferroni over all 15) of CosNet's
    exact values; every sampled G4c resolved (> 4 SE from the Gaussian theory's 0), and G2 = K (the
    normal-ordering counterterm). G6c (exact <= 1e-5) is not resolved at this size (said, not hidden)."""
    _, _, _, th, cl = sampled
    assert th.khat[2] < 0.5, th.khat  # G4c's degree-6 terms: k-hat ~ 1 (see the module docstring)
    assert cl.closes, cl.summary()
    assert np.all(np.abs(cl.g4.effective) > 4 * cl.g4.effective_se), cl.summary()
    assert cl.g2 is not None and cl.g6 is not None and len(cl.g6.z) == 7
    assert th.diverging == 0 and th.max_abs_phi < 8


def test_the_comparison_has_power(sampled):
    """The same draws against the width-32 ensemble's exact G4c (lam twice as large) are rejected, even
    with the SEs inflated by 1.5 (replicas of 8 x 500 draws scattered by sqrt(2.0) times their SE), and the
    Schwinger-Dyson G4c is > 3x more precise than the plain fourth cumulant of the same draws (the plain
    one would need > 9x the draws)."""
    _, _, _, th, cl = sampled
    g8 = A.exact_correlators(nn.CosNet(width=32), X, orders=(4,), full=False).connected[4].value
    z8 = (g8 - th.g4c.value) / (1.5 * th.g4c.se)  # 1.5: the worst calibration measured (mean z^2 = 2.0)
    assert np.max(np.abs(z8)) > se_threshold(len(z8)), z8
    assert np.all(th.g4c_plain.se > 3 * th.g4c.se)


def test_gaussian_field_and_bad_input(sampled):
    """The field's covariance is K on its points (1e-12); a theory sampled at another coupling or
    points is refused by name."""
    arch, ex, lc, th, _ = sampled
    pts = np.linspace(-1, 1, 7)[:, None]
    field = A.gaussian_field(arch, pts)
    np.testing.assert_allclose(field.covariance, np.asarray(arch.nngp_kernel(pts, pts)), rtol=0, atol=1e-12)
    with pytest.raises(NNFTError, match="coupling"):
        A.close_loop_sampled(ex, arch, lc, th._replace(lam=2 * th.lam))
    with pytest.raises(NNFTError, match="points"):
        A.close_loop_sampled(ex, arch, lc, th._replace(x=X[:, None] + 0.1))
    with pytest.raises(NNFTError, match="arch"):
        A.gaussian_field("CosNet", pts)
