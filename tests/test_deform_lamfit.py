"""The lam^2 fit of the deviation from first order (`fit_deviation`) on synthetic data: calibrated
coefficient errors and chi^2 (with and without correlated derivative data), derived figures, bad input,
and the recipe's report section and plot."""

import numpy as np
import pytest
from scipy import stats as st

from nnft_ppl import NNFTError
from nnft_ppl import deform as D
from nnft_ppl.deform._lam2_report import lam2_section, plot_lam2
from nnft_ppl.stats import se_threshold

LAMS = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0])
TRUE = np.array([0.0, 0.035, -0.01])  # a, b, c
A1 = -0.09  # first-order slope: shift = A1 lam
FREE = 0.5


def _truth(lams):
    return sum(c * lams ** (k + 1) for k, c in enumerate(TRUE))


def _draw(rng, n, corr=0.6):
    """n synthetic scans: values and derivatives with per-lam SEs and correlation `corr`."""
    se = 0.001 + 0.002 * LAMS
    dse = 0.003 - 0.001 * LAMS
    z1 = rng.standard_normal((n, LAMS.size))
    z2 = corr * z1 + np.sqrt(1 - corr**2) * rng.standard_normal((n, LAMS.size))
    value = FREE + A1 * LAMS + _truth(LAMS) + se * z1
    deriv = A1 + TRUE[0] + 2 * TRUE[1] * LAMS + 3 * TRUE[2] * LAMS**2 + dse * z2
    return value, se, deriv, dse, corr * se * dse


@pytest.mark.parametrize("with_derivative", [False, True])
def test_fit_is_calibrated(rng, with_derivative):
    """Over 2000 synthetic scans the coefficient z-scores have unit variance and the chi^2 p-values are
    uniform (KS), each within its own sampling error (4 SE, Bonferroni over the checks)."""
    n = 2000
    value, se, deriv, dse, cov = _draw(rng, n)
    zs, ps = [], []
    for i in range(n):
        kw = dict(derivative=deriv[i], derivative_se=dse, derivative_cov=cov) if with_derivative else {}
        f = D.fit_deviation(LAMS, value[i], se, FREE, A1 * LAMS, order=3, **kw)
        zs.append((f.coef - TRUE) / f.coef_se)
        ps.append(f.p_value)
    zs = np.asarray(zs)
    thr = se_threshold(4, 4.0)
    var_se = np.sqrt(2.0 / (n - 1))
    assert np.all(np.abs(zs.var(axis=0, ddof=1) - 1.0) < thr * var_se), zs.var(axis=0)
    assert np.all(np.abs(zs.mean(axis=0)) < thr / np.sqrt(n)), zs.mean(axis=0)
    assert st.kstest(ps, "uniform").pvalue > 2 * st.norm.sf(thr), st.kstest(ps, "uniform")
    # the derivatives carry information: they shrink the error of a
    f1 = D.fit_deviation(LAMS, value[0], se, FREE, A1 * LAMS, order=3)
    f2 = D.fit_deviation(
        LAMS, value[0], se, FREE, A1 * LAMS, order=3, derivative=deriv[0], derivative_se=dse, derivative_cov=cov
    )
    assert f2.coef_se[0] < 0.5 * f1.coef_se[0]


def test_misspecified_model_fails_chi2_and_derived_figures(rng):
    """A quadratic model of data with a resolved cubic term is rejected; the derived figures are right."""
    value, se, deriv, dse, cov = _draw(rng, 1)
    se_small = se / 20
    exact = FREE + A1 * LAMS + _truth(LAMS)
    noisy = exact + (value[0] - exact) / 20
    f2 = D.fit_deviation(LAMS, noisy, se_small, FREE, A1 * LAMS, order=2)
    assert f2.p_value < 2 * st.norm.sf(4.0), f2.summary()
    f3 = D.fit_deviation(LAMS, noisy, se_small, FREE, A1 * LAMS, order=3)
    assert f3.p_value > 2 * st.norm.sf(4.0), f3.summary()
    np.testing.assert_allclose(f3.predict(LAMS), f3.deviation, atol=5 * se_small.max())
    assert f3.predict_se(LAMS).shape == LAMS.shape and np.all(f3.predict_se(LAMS) > 0)
    # noise-free data: exact coefficients, breakdown points and the fitted 10% point
    f = D.fit_deviation(LAMS, exact, se, FREE, A1 * LAMS, order=3)
    np.testing.assert_allclose(f.coef, TRUE, atol=1e-12)
    dev = _truth(LAMS)
    assert f.breakdown_lam == LAMS[np.abs(dev) > 3 * se].min()
    assert f.breakdown_rel_lam == LAMS[np.abs(dev) > 0.1 * np.abs(A1 * LAMS)].min()
    np.testing.assert_allclose(f.rel_lam_fit, 0.1 * abs(A1) / TRUE[1])
    assert f.chi2 < 1e-18 and f.dof == LAMS.size - 3
    # a pure lam^2 deviation has log-log slope 2
    g = D.fit_deviation(LAMS, FREE + A1 * LAMS + 0.03 * LAMS**2, se, FREE, A1 * LAMS)
    np.testing.assert_allclose(g.slope, 2.0, atol=1e-12)
    assert "b = +0.03" in g.summary()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lams=[0.1, 0.1, 0.2, 0.3]), "distinct"),
        (dict(lams=[0.0, 0.1, 0.2, 0.3]), "distinct and > 0"),
        (dict(se=[0.1, 0.0, 0.1, 0.1]), "se must be > 0"),
        (dict(value=[1.0, 2.0]), "value must be one number per lam"),
        (dict(value=[1.0, np.nan, 1.0, 1.0]), "finite"),
        (dict(order=4), "order"),
        (dict(lams=[0.1, 0.2], value=[1, 1], se=[1, 1], first_order_shift=[0, 0]), "more lams"),
        (dict(derivative=[0, 0, 0, 0], derivative_se=[1, 1, 1, 1], derivative_cov=[2, 0, 0, 0]), "positive"),
        (dict(derivative=[0, 0, 0, 0], derivative_se=[1, -1, 1, 1]), "derivative_se"),
        (dict(lams="abc"), "lams"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(lams=[0.1, 0.2, 0.3, 0.4], value=[1.0] * 4, se=[0.1] * 4, free=1.0, first_order_shift=[0.0] * 4)
    args.update(kwargs)
    with pytest.raises(NNFTError, match=match):
        D.fit_deviation(**args)


def test_report_section_and_plot(rng, tmp_path):
    value, se, deriv, dse, cov = _draw(rng, 1)
    f = D.fit_deviation(
        LAMS, value[0], se, FREE, A1 * LAMS, order=3, derivative=deriv[0], derivative_se=dse, derivative_cov=cov
    )
    resp = [
        D.Phi2Response(lam, v, s, d, ds, c, v, 10 * s)
        for lam, v, s, d, ds, c in zip(LAMS, value[0], se, deriv[0], dse, cov, strict=True)
    ]
    text = "\n".join(lam2_section(f, resp))
    assert "a lam + b lam^2 + c lam^3" in text and "Log-log slope" in text and "10%" in text
    plot_lam2(f, tmp_path)
    assert (tmp_path / "deviation_fit.png").stat().st_size > 0


def test_phi2_response_bad_input():
    import nnft_ppl as nf

    quad = D.make_quadrature((-1, 1), 3)
    x = np.zeros((1, 1))
    theta = {"a": np.zeros((2, 4, 4)), "w": np.zeros((2, 4, 4, 1)), "b": np.zeros((2, 4, 4))}
    run = D.DeformedRun(dict(theta, phi=np.zeros((2, 4, 1))), {}, x, 0.0, {"potential": "Phi4(lam=1)"})
    model = D.deform(nf.CosNet(width=4), D.Phi4(1.0), quad)
    with pytest.raises(NNFTError, match="sampled with Phi4"):
        D.phi2_response(model, run, 0.5)
    with pytest.raises(NNFTError, match="lams"):
        D.phi2_responses(model, [run], [1.0, 2.0])
    no_theta = run._replace(samples={"phi": run.samples["phi"]})
    with pytest.raises(NNFTError, match="readout site"):
        D.phi2_response(model, no_theta, 1.0)
    deep = D.deform(nf.DeepMLP(width=4, depth=2), D.Phi4(1.0), quad)
    with pytest.raises(NNFTError, match="i.i.d. neurons"):
        D.phi2_response(deep, run, 1.0)
    with pytest.raises(NNFTError, match="no exact finite-width cumulants"):
        D.first_order_phi2_exact(nf.DeepMLP(width=4, depth=2), 1.0, quad, x)
