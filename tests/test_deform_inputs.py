"""Bad input to nnft_ppl.deform raises NNFTError naming the problem; potentials and quadrature behave."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import nnft_ppl as nf
from nnft_ppl import NNFTError
from nnft_ppl import deform as D


def test_potential_values_and_sum():
    phi = jnp.linspace(-2, 2, 5)
    v = D.Phi4(2.0) + D.Phi3(0.5) + D.Phi6(1.0)
    expect = 2.0 * phi**4 / 24 + 0.5 * phi**3 / 6 + phi**6 / 720
    np.testing.assert_allclose(v(phi), expect, rtol=1e-13)
    assert v.coefficients() == {4: 2.0 / 24, 3: 0.5 / 6, 6: 1 / 720}
    dw = D.DoubleWell(m2=-1.0, lam=6.0)
    assert dw.vacua() == (-1.0, 1.0)
    np.testing.assert_allclose(dw(jnp.array([1.0])), [-0.5 + 0.25])


@pytest.mark.parametrize(
    "pot",
    [D.Phi4(-1.0), D.Phi3(1.0), D.Phi4(1.0) + D.Phi6(-0.1), D.Mass(-1.0), D.Custom(lambda p: -(p**2), "neg")],
)
def test_unbounded_potential_rejected(pot):
    quad = D.make_quadrature((-1, 1), 4)
    with pytest.raises(NNFTError, match="unbounded below|bounded below"):
        D.deform(nf.CosNet(width=4), pot, quad)


def test_phi3_allowed_with_stabiliser_or_explicitly():
    quad = D.make_quadrature((-1, 1), 4)
    D.deform(nf.CosNet(width=4), D.Phi3(1.0) + D.Phi4(0.1), quad)
    D.deform(nf.CosNet(width=4), D.Phi3(1.0), quad, allow_unbounded=True)
    D.deform(nf.CosNet(width=4), D.Custom(lambda p: p**4, "quartic"), quad)


@pytest.mark.parametrize("lam", [math.nan, math.inf, -math.inf, "x", None])
def test_lam_not_finite(lam):
    with pytest.raises(NNFTError, match="lam"):
        D.Phi4(lam)


def test_double_well_signs():
    with pytest.raises(NNFTError, match="m2"):
        D.DoubleWell(m2=1.0, lam=1.0)
    with pytest.raises(NNFTError, match="lam"):
        D.DoubleWell(m2=-1.0, lam=-1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(box=(1.0, -1.0)), "box"),
        (dict(box=(0.0, math.inf)), "box"),
        (dict(box=(0.0, 1.0, 2.0)), "box"),
        (dict(box="abc"), "box"),
        (dict(box=(-1, 1), d=4), "d must be"),
        (dict(box=(-1, 1), d=0), "d must be"),
        (dict(box=[(-1, 1)] * 4), "d must be"),
        (dict(box=(-1, 1), rule="simpson"), "rule"),
        (dict(box=(-1, 1), n=0), "n must"),
        (dict(box=(-1, 1), n=1, rule="trapezoid"), "n must"),
    ],
)
def test_bad_quadrature(kwargs, match):
    with pytest.raises(NNFTError, match=match):
        D.make_quadrature(**kwargs)


@pytest.mark.parametrize("rule", D.RULES)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_quadrature_integrates(rule, d):
    q = D.make_quadrature((-1.0, 2.0), 9, rule=rule, d=d)
    assert q.points.shape == (9**d, d)
    np.testing.assert_allclose(q.weights.sum(), 3.0**d, rtol=1e-12)
    # integral of x_1^2 over [-1, 2] is 3; the trapezoid rule's error for x^2 is exactly (b - a) h^2 / 6
    val = np.sum(q.weights * q.points[:, 0] ** 2) / 3.0 ** (d - 1)
    expect = 3.0 if rule == "gauss-legendre" else 3.0 + 3.0 * (3.0 / 8) ** 2 / 6
    np.testing.assert_allclose(val, expect, rtol=1e-12)
    assert q.metadata()["quadrature_rule"] == rule


def test_dimension_mismatch_and_bad_arguments():
    q2 = D.make_quadrature((-1, 1), 3, d=2)
    with pytest.raises(NNFTError, match="d = 2"):
        D.deform(nf.CosNet(width=4, d=1), D.Phi4(1.0), q2)
    m = D.deform(nf.CosNet(width=4), D.Phi4(1.0), D.make_quadrature((-1, 1), 3))
    import jax

    with pytest.raises(NNFTError, match="kernel"):
        D.sample_deformed(m, np.zeros((1, 1)), jax.random.PRNGKey(0), kernel="gibbs")
    with pytest.raises(NNFTError, match="chain_method"):
        D.sample_deformed(m, np.zeros((1, 1)), jax.random.PRNGKey(0), chain_method="threads")
    with pytest.raises(NNFTError, match="x"):
        D.sample_deformed(m, np.zeros((1, 2)), jax.random.PRNGKey(0))
    with pytest.raises(NNFTError, match="not polynomial"):
        D.first_order(nf.CosNet(width=4), D.Custom(lambda p: p**4), D.make_quadrature((-1, 1), 3), [[0.0]], 2)
    with pytest.raises(NNFTError, match="potential: unknown"):
        D.potential_from_spec({"phi5": 1.0})


def test_first_order_formulas_by_hand():
    """The diagram sum reproduces the textbook phi^4 expressions and the phi^3 tadpole."""
    arch = nf.CosNet(width=8, sw=1.3, sa=0.9)
    q = D.make_quadrature((-1, 1), 6)
    x = np.array([[-0.3], [0.2]])
    g_xz = np.asarray(arch.nngp_kernel(x, q.points))
    g_zz = np.asarray(arch.nngp_kernel(q.points, q.points)).diagonal()
    lam = 0.7
    dg2 = -(lam / 2) * np.einsum("q,iq,q,jq->ij", q.weights, g_xz, g_zz, g_xz)
    np.testing.assert_allclose(D.first_order_dg2(arch, lam, q, x), dg2, rtol=1e-12)
    g4 = -lam * np.einsum("q,iq,jq,kq,lq->ijkl", q.weights, g_xz, g_xz, g_xz, g_xz)
    np.testing.assert_allclose(D.first_order_g4c(arch, lam, q, x), g4, rtol=1e-12)
    tad = -(0.4 / 2) * np.einsum("q,iq,q->i", q.weights, g_xz, g_zz)
    np.testing.assert_allclose(D.first_order(arch, D.Phi3(0.4), q, x, 1), tad, rtol=1e-12)


def test_float32_sampling_runs_and_hmc_sequential():
    """One compiled run covers float32, the HMC kernel and sequential chains (compilation dominates)."""
    import jax

    m = D.deform(nf.CosNet(width=4), D.Phi4(1.0), D.make_quadrature((-1, 1), 3))
    with pytest.raises(NNFTError, match="non-empty"):
        D.sample_scan(m, [[0.0]], jax.random.PRNGKey(0), [])
    run = D.sample_deformed(
        m,
        [[0.0]],
        jax.random.PRNGKey(1),
        num_warmup=20,
        num_samples=20,
        num_chains=2,
        kernel="hmc",
        chain_method="sequential",
        dtype=jax.numpy.float32,
    )
    assert run.samples["phi"].dtype == np.float32 and run.samples["phi"].shape == (2, 20, 1)
    assert run.meta["kernel"] == "hmc" and run.meta["chain_method"] == "sequential"
    assert np.all(np.isfinite(run.samples["phi"])) and run.meta["dtype"] == "float32"


def _fake_run(arch, lam, x, draws=True):
    """Prior draws of the field (or zeros) dressed as a run of Phi4(lam): the scan's arithmetic, without NUTS."""
    import jax

    keys = jax.random.split(jax.random.PRNGKey(0), 400)
    phi = np.asarray(jax.jit(arch.sample_fields)(keys, jnp.asarray(x))) if draws else np.zeros((400, len(x)))
    pot = D.Phi4(lam)
    meta = {"potential": pot.describe(), "potential_polynomial": pot.polynomial()}
    samples = {"phi": phi.reshape(2, 200, -1), "S_int_value": np.ones((2, 200))}
    return D.DeformedRun(samples, {"diverging": np.zeros((2, 200), bool)}, np.asarray(x), 1.0, meta)


def test_phi4_scan_uses_the_exact_first_order_and_refuses_where_g2_is_not_the_kernel():
    x = np.array([[-0.5], [0.0], [0.5]])
    quad = D.make_quadrature((-1.0, 1.0), 6)
    arch = nf.CosNet(width=4)
    model = D.deform(arch, D.Phi4(0.5), quad)
    row = D.phi4_scan([_fake_run(arch, 0.5, x)], [0.5], model)[0]
    free = np.trace(np.asarray(arch.nngp_kernel(x, x))) / 3
    exact = free + 0.5 * np.mean(D.first_order_phi2_exact(arch, 1.0, quad, x))
    diagram = free + np.trace(D.first_order_dg2(arch, 0.5, quad, x)) / 3
    assert row["first_order"] == pytest.approx(exact, rel=1e-12) and row["first_order_kind"] == "exact at finite width"
    assert abs(exact - diagram) > 0.05 * abs(diagram - free)  # at width 4 the two differ: the choice matters
    with pytest.raises(NNFTError, match="not Phi4"):
        D.phi4_scan([_fake_run(arch, 1.0, x)], [0.5], model)
    deep = nf.DeepMLP(depth=2, width=4)
    with pytest.raises(NNFTError, match="not its NNGP kernel"):
        D.phi4_scan([_fake_run(deep, 0.5, x, draws=False)], [0.5], D.deform(deep, D.Phi4(0.5), quad))
    one = nf.DeepMLP(depth=1, width=4)
    assert D.free_phi2(one, x) == pytest.approx(np.trace(np.asarray(one.nngp_kernel(x, x))) / 3, rel=1e-12)
