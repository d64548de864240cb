"""Local quartic coupling lam(Lambda) = G4c / (-int prod K) and its running (issue 15, item 2)."""

from __future__ import annotations

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import action as A
from nnft_ppl.stats import se_threshold
from tests.helpers import assert_within_se

X = np.array([-0.5, 0.1, 0.7])


@pytest.fixture(scope="module")
def cos_exact():
    arch = nn.CosNet(width=4)
    return arch, A.exact_correlators(arch, X, orders=(4,), full=False)


@pytest.mark.parametrize("name", ["CosNet", "GaussNet"])
def test_exact_coupling_equals_closed_form_integral(name, cos_exact):
    """From the exact G4c, lam_t through the quadrature pipeline equals -G4c_t / (closed-form erf
    integral) to 1e-8 (relative), at a small and a large cutoff."""
    arch, ex = cos_exact if name == "CosNet" else (nn.GaussNet(width=4), None)
    ex = ex or A.exact_correlators(arch, X, orders=(4,), full=False)
    g4 = ex.connected[4].value
    idx = ex.index(4)
    for cutoff in (1.5, 300.0):
        lc = A.local_coupling(ex, arch, cutoff)
        closed = -g4[[idx[tuple(t)] for t in lc.tuples]] / A.gaussian_vertex_integral(arch, X, lc.tuples, cutoff)
        np.testing.assert_allclose(lc.lam, closed, rtol=1e-8, atol=0)
        assert np.all(lc.lam_se == 0) and np.isnan(lc.chi2)


@pytest.fixture(scope="module")
def cos_mc():
    arch = nn.CosNet(width=4)
    return arch, A.measure(arch, X, 40_000, key=3, orders=(4,), progress=False)


def test_monte_carlo_coupling_within_se_of_closed_form(cos_mc):
    """lam_t from Monte Carlo G4c (jackknife replicas through the pipeline) within 4 SE (Bonferroni
    over tuples) of the closed-form value; the weighted mean within 4 SE of the exact values with the same weights."""
    arch, mc = cos_mc
    lc = A.local_coupling(mc, arch, 3.0)
    ex = A.exact_correlators(arch, X, orders=(4,), full=False)
    idx = ex.index(4)
    g4 = ex.connected[4].value[[idx[tuple(t)] for t in lc.tuples]]
    closed = -g4 / A.gaussian_vertex_integral(arch, X, lc.tuples, 3.0)
    assert_within_se(lc.lam, lc.lam_se, closed, mc.n_blocks, what="lam_t")
    w = np.linalg.lstsq(lc.lam_replicas - lc.lam_replicas.mean(0), lc.mean_replicas - lc.mean, rcond=None)[0]
    assert abs(lc.mean - w @ closed) < se_threshold(1, 4, mc.n_blocks - 1) * lc.mean_se
    assert lc.mean_se > 0 and np.isfinite(lc.chi2) and 0 <= lc.p_value <= 1 and lc.khat < 0.5


def test_constancy_test_has_power(cos_mc):
    """CosNet's finite-width G4c is not a local phi^4 vertex: at 40k networks the tuples' couplings
    differ (exact spread 29% at Lambda = 3) and the Hotelling test rejects one coupling."""
    arch, mc = cos_mc
    lc = A.local_coupling(mc, arch, 3.0)
    assert lc.p_value < 1e-4, lc.summary()


@pytest.mark.parametrize(("name", "expected"), [("ReLUNet", -5.0), ("ErfNet", -1.0), ("CosNet", 0.0)])
def test_running_slopes_match_dimensional_analysis(name, expected, cos_exact):
    """lam ∝ Lambda^s at large Lambda: ReLU s -> -(4 + d) = -5 (K ~ |z|), Erf s -> -d = -1 (K -> const),
    CosNet s -> 0 (finite). The fitted slope over Lambda = 1e3..1e5 and the exact local slope at the
    largest cutoff are within 0.01 of the expectation (finite-Lambda corrections are O(max|x| / Lambda));
    on Lambda = 1..10 the ReLU slope is far from it (the fit is not just returning the expectation)."""
    arch, ex = cos_exact if name == "CosNet" else (nn.make_architecture(name, width=20), None)
    ex = ex or A.exact_correlators(arch, X, orders=(4,), full=False)
    run = A.running_coupling(ex, arch, np.geomspace(1e3, 1e5, 5))
    assert run.expected == expected
    assert abs(run.slope - expected) < 0.01 and abs(run.local_slope - expected) < 0.01, run.summary()
    if name == "ReLUNet":
        low = A.running_coupling(ex, arch, np.geomspace(1.0, 10.0, 5))
        assert abs(low.slope - expected) > 1.0, low.summary()


def test_running_from_monte_carlo_has_a_jackknife_ci(cos_mc):
    """From Monte Carlo correlators the weighted-mean coupling runs with a jackknife CI; its slope is the
    exact one within 4 SE + 1e-3 (the running of one tuple is the kernel integral's, so the error only
    enters through the tuples' weights)."""
    arch, mc = cos_mc
    run = A.running_coupling(mc, arch, [1.0, 2.0, 4.0, 8.0], tuples=[(0, 0, 2, 2), (0, 1, 1, 2), (0, 0, 0, 0)])
    lo, hi = run.slope_ci
    assert lo <= run.slope <= hi and np.all(run.mean_se > 0)
    ex = A.running_coupling(A.exact_correlators(arch, X, orders=(4,), full=False), arch, [1.0, 2.0, 4.0, 8.0])
    assert abs(run.slope - ex.slope) < 4 * run.slope_se + 0.05, (run.summary(), ex.summary())


def test_shared_scale_running_is_finite():
    assert A.expected_exponent(nn.SharedScaleNet(width=3), X) == 0.0
    assert A.expected_exponent(nn.GaussNet(width=3, sb=1.0), X) == -1.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda arch, ex: A.local_coupling(ex, arch, 0.0), "cutoff"),
        (lambda arch, ex: A.local_coupling(ex, arch, -2.0), "cutoff"),
        (lambda arch, ex: A.local_coupling(ex, arch, 0.6), "cutoff.*contain"),
        (lambda arch, ex: A.local_coupling(ex, arch, float("nan")), "cutoff"),
        (lambda arch, ex: A.local_coupling(ex, nn.GaussNet(width=4), 3.0), "correlators.*architecture"),
        (lambda arch, ex: A.local_coupling(ex, nn.CosNet(width=5), 3.0), "correlators.*architecture"),
        (lambda arch, ex: A.local_coupling(ex, arch, 3.0, x=X + 0.1), "correlators.*points"),
        (lambda arch, ex: A.local_coupling(ex, arch, 3.0, tuples=[(0, 1, 2)]), "tuples"),
        (lambda arch, ex: A.local_coupling(ex, arch, 3.0, tuples=[(0, 1, 2, 7)]), "tuples"),
        (lambda arch, ex: A.running_coupling(ex, arch, [3.0]), "cutoffs"),
        (lambda arch, ex: A.running_coupling(ex, arch, [5.0, 3.0]), "cutoffs"),
        (lambda arch, ex: A.running_coupling(ex, arch, [0.5, 3.0]), "cutoff"),
    ],
)
def test_bad_input_names_the_argument(call, match, cos_exact):
    arch, ex = cos_exact
    with pytest.raises(nn.NNFTError, match=match):
        call(arch, ex)
