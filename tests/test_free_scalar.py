"""FreeScalar: the cutoff propagator by quadrature, its continuum limit, Monte Carlo, Euclidean
symmetries and reflection positivity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_within_se
from scipy.integrate import quad
from scipy.special import j0

from nnft_ppl import NNFTError
from nnft_ppl.architectures import FreeScalar
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.symmetry import reflection_positivity_kernel
from nnft_ppl.symmetry.report import run_ensemble


def _scipy_cutoff(d, m, lam, r):
    """The cutoff integral by QUADPACK (QAWO for the oscillatory weights in d = 1, 3)."""
    if d == 1:
        return quad(lambda p: 1 / (p * p + m * m), 0, lam, weight="cos", wvar=r, epsabs=1e-14)[0] / math.pi
    if d == 3:
        val = quad(lambda p: p / (p * p + m * m), 0, lam, weight="sin", wvar=r, epsabs=1e-14)[0]
        return val / (2 * math.pi**2 * r)
    f = quad(lambda p: p * j0(p * r) / (p * p + m * m), 0, lam, limit=4000, epsabs=1e-14, epsrel=1e-13)
    return f[0] / (2 * math.pi)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_cutoff_integral_to_1e8(d):
    """The Gauss-Legendre cutoff propagator equals QUADPACK's to 1e-8 absolute over 0 < r <= r_max,
    G2(x, x) is the closed form, and the halved-panel error estimate is below 1e-8."""
    arch = FreeScalar(d=d, m=0.7, Lambda=12.0, r_max=15.0)
    r = np.array([1e-3, 0.05, 0.4, 1.3, 3.7, 8.2, 15.0])
    ours = np.asarray(arch.cutoff_g2(r))
    ref = np.array([_scipy_cutoff(d, 0.7, 12.0, ri) for ri in r])
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-8)
    assert abs(float(arch.cutoff_g2(1e-12)) - float(arch.g2_origin)) < 1e-12
    assert np.max(np.abs(ours - np.asarray(arch.cutoff_g2(r, refine=True)))) < 1e-8
    with pytest.raises(NNFTError, match="r_max"):  # the quadrature is not built beyond r_max
        arch.nngp_kernel(np.zeros((1, d)), np.full((1, d), 20.0))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_cutoff_error_falls_within_its_bound(d):
    """|cutoff - continuum| stays within the stated bound (plus the 1e-8 quadrature error) as Lambda
    grows, and both the bound and the largest measured error fall."""
    r = np.array([0.5, 1.0, 2.0])
    errs, bounds = [], []
    for lam in (10.0, 40.0, 160.0):
        arch = FreeScalar(d=d, m=1.0, Lambda=lam, r_max=2.0)
        err = np.abs(np.asarray(arch.cutoff_g2(r)) - arch.continuum_g2(r))
        bound = arch.cutoff_error_bound(r)
        assert np.all(err <= bound + 1e-8), f"d={d} Lambda={lam}: {err} > {bound}"
        errs.append(err.max())
        bounds.append(bound.max())
    assert bounds[0] > bounds[1] > bounds[2] and errs[2] < errs[0], (errs, bounds)


def test_monte_carlo_g2_in_d2_matches_the_cutoff_integral():
    """d = 2 (the zoo-wide test covers d = 1, 3): Monte Carlo G2 within 4 SE (Bonferroni) of the
    cutoff integral, on fixed points with a fixed key."""
    arch = FreeScalar(d=2, width=4, m=1.0, Lambda=6.0)
    x = np.array([[0.0, 0.0], [0.3, 0.1], [-0.4, 0.5], [1.2, -0.7]])
    ds = ensemble_correlators(arch, x, 20_000, key=11, max_order=2, progress=False)
    iu = np.triu_indices(4)
    ref = np.asarray(arch.nngp_kernel(x, x))
    assert_within_se(ds.G2.values[iu], ds.G2_se.values[iu], ref[iu], ds.attrs["n_blocks"], what="FreeScalar d=2")


def test_symmetry_registry_on_the_free_field():
    """Every registered diagnostic that applies, on the d = 2 free field at width 6: Z2, translations,
    rotations and reflection positivity (kernel at the registry's points, and sampled ensemble) pass.
    Cluster decomposition fails, for the right reason: at finite width the connected G4 of cosine
    neurons has sign terms chi(|(a1 - a2) + (b1 - b2)|) that do not decay with the separation of the
    pairs; the measured cross-connected C4 at the largest distance agrees with the exact value."""
    spec = {"name": "free", "architecture": "FreeScalar", "params": {"d": 2, "width": 6}, "n": 4000, "key": 5}
    _, res = run_ensemble(spec)
    by_name = {r.name.split(":")[0]: r for r in res}
    rp = ("reflection positivity (kernel)", "reflection positivity (ensemble)")
    for needed in ("Z2", "translation", "rotation SO(d)", *rp):
        assert by_name[needed].passed, by_name[needed].row()
    cluster = by_name["cluster decomposition"]
    assert not cluster.passed
    arch = FreeScalar(d=2, width=6)
    pair = np.array([[0.0, 0.0], [0.0, 0.3]])
    x4 = np.concatenate([pair, pair + np.array([8.0, 0.0])])
    k = np.asarray(arch.nngp_kernel(x4, x4))
    g4c = arch.exact_connected_values(x4, [(0, 1, 2, 3)])[0][0]
    c4 = g4c + k[0, 2] * k[1, 3] + k[0, 3] * k[1, 2]
    est, se = float(cluster.estimate[1]), float(cluster.se[1])
    assert abs(est - c4) <= 4 * se, (est, se, c4)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_reflection_positivity_holds_up_to_the_cutoff_error(d):
    """Reflection positivity. Continuum: G2(p) = 1/(p^2+m^2) is a Kallen-Lehmann form with a positive
    spectral measure (a point mass at m^2), so G2(theta x, y) = int d^(d-1)k/(2pi)^(d-1) e^{ik.(x-y)}
    e^{-w_k (x_0+y_0)}/(2 w_k) and the reflected Gram M_ij = G2(theta x_i, x_j) is PSD: its smallest
    eigenvalue is >= -1e-12 max here. The ball cutoff is not of that form (no finite-variance field
    in d >= 2 can be: a positive Kallen-Lehmann measure makes G2(x, x) diverge), so RP holds up to
    the cutoff error: by Weyl, lambda_min(M_Lambda) >= -||M_Lambda - M_inf||_2 >= -P max bound, and
    the violation shrinks as Lambda grows."""
    x = np.random.default_rng(d).uniform(-1.5, 1.5, size=(14, d))
    x[:, 0] = np.abs(x[:, 0]) + 0.05
    xr = x.copy()
    xr[:, 0] *= -1
    r = np.linalg.norm(xr[:, None] - x[None], axis=-1)
    lam_min = []
    for lam in (10.0, 100.0):
        arch = FreeScalar(d=d, Lambda=lam, r_max=10.0)
        cont = arch.continuum_g2(r)
        ev_cont = np.linalg.eigvalsh(0.5 * (cont + cont.T))
        assert ev_cont[0] >= -1e-12 * ev_cont[-1], ev_cont[:3]
        res = reflection_positivity_kernel(arch.nngp_kernel, x, rtol=1e-12)
        m = np.asarray(arch.nngp_kernel(xr, x))
        weyl = np.linalg.norm(m - cont, 2)
        est = float(np.asarray(res.estimate).ravel()[0])
        assert est >= -weyl - 1e-12 and weyl <= len(x) * arch.cutoff_error_bound(r).max() + 1e-8
        lam_min.append(est)
    assert abs(min(lam_min[1], 0.0)) < abs(min(lam_min[0], 0.0)) or lam_min[1] >= 0, lam_min


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [({"d": 4}, "d"), ({"m": 0.0}, "m"), ({"m": -1.0}, "m"), ({"Lambda": 0.0}, "Lambda"), ({"Lambda": -2.0}, "Lambda"),
     ({"r_max": 0.0}, "r_max"), ({"width": 0}, "width")],
)  # fmt: skip
def test_bad_input_names_the_argument(kwargs, arg):
    with pytest.raises(NNFTError, match=arg):
        FreeScalar(**kwargs)
