"""Pass/fail pairs (statistical power), errors, ESS, ArviZ round trip. Fixed keys throughout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import nnft_ppl as nf
from nnft_ppl import NNFTError
from nnft_ppl import symmetry as S
from nnft_ppl.deform import Phi3, Phi4

K = jax.random.PRNGKey
X1 = np.array([[0.2], [0.7], [1.3]])
SHIFTS1 = np.array([[0.8], [-1.7]])


@pytest.mark.parametrize("name,invariant", [("CosNet", True), ("ErfNet", False), ("ReLUNet", False)])
def test_translation_pass_fail(name, invariant):
    arch = nf.make_architecture(name, width=30, d=1)
    r = S.translation_test(arch, X1, SHIFTS1, 1500, K(1))
    assert r.passed is invariant, r.row()


def test_rotation_haar_and_pass_fail():
    rot = S.random_rotations(K(2), 3, 4)
    assert np.allclose(np.einsum("rij,rkj->rik", rot, rot), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(rot), 1.0)
    # Haar: the mean of R over many draws vanishes (axis swaps alone would not give this)
    many = S.random_rotations(K(3), 2, 400)
    assert np.abs(many.mean(0)).max() < 4 / np.sqrt(400)
    x = np.array([[0.3, 0.0], [0.3, 1.5]])
    arch = nf.CosNet(width=30, d=2)
    rots = S.random_rotations(K(4), 2, 2)
    assert S.rotation_test(arch, x, rots, 1000, K(5)).passed
    aniso = jax.jit(lambda keys, pts: arch.sample_fields(keys, pts * np.array([1.0, 0.25])))  # breaks SO(2)
    assert not S.rotation_test(aniso, x, rots, 1000, K(5)).passed


def test_z2_phi3_flagged_phi4_kept():
    arch = nf.CosNet(width=30, d=1)
    phi3 = S.deformed_ensemble(arch, X1, 1500, K(6), Phi3(1.8) + Phi4(2.4))  # V = kappa phi^3/3! + lam phi^4/4!
    phi4 = S.deformed_ensemble(arch, X1, 1500, K(7), Phi4(7.2))
    assert not S.z2_test(phi3).passed
    assert S.z2_test(phi4).passed
    assert S.z2_test(S.prior_ensemble(arch, X1, 1500, K(8))).passed


def test_internal_so_pass_fail_and_scalar_error():
    ok = S.prior_ensemble(S.VectorGaussNet(width=20, n_out=3, mu=0.0), X1[:2], 1500, K(9))
    bad = S.prior_ensemble(S.VectorGaussNet(width=20, n_out=3, mu=0.05), X1[:2], 1500, K(9))
    assert S.internal_so_test(ok, K(10)).passed
    assert not S.internal_so_test(bad, K(10)).passed
    with pytest.raises(NNFTError, match="vector outputs"):
        S.internal_so_test(S.prior_ensemble(nf.CosNet(width=20), X1, 100, K(0)), K(0))


def test_power_smallest_detected_mu():
    x = X1[:2]

    def run(mu):
        return S.internal_so_test(S.prior_ensemble(S.VectorGaussNet(width=20, n_out=2, mu=mu), x, 1000, K(11)), K(12))

    scan = S.smallest_detected(run, [0.0, 0.01, 0.03, 0.1])
    assert not scan["flagged"][0] and scan["flagged"][-1]
    assert scan["smallest"] in (0.01, 0.03)
    assert np.all(np.diff(scan["flagged"].astype(int)) >= 0)  # monotone on this grid


def test_permutation():
    tree = S.prior_ensemble(nf.CosNet(width=20), X1, 100, K(0))
    assert S.permutation_test(tree, order=3).passed
    g = np.array([[1.0, 0.5], [0.5, 2.0]])
    assert S.permutation_test(correlator=g, se=0.01).passed
    g[0, 1] = 0.7  # a stored tensor that is not symmetric
    assert not S.permutation_test(correlator=g, se=0.01).passed


def _bad_kernel(a, b):
    t = jnp.abs(jnp.asarray(a)[:, None, 0] - jnp.asarray(b)[None, :, 0])
    return jnp.exp(-t) - 0.5 * jnp.exp(-2 * t)


def test_reflection_positivity_kernels():
    x = np.array([[0.2], [0.6], [1.0], [1.5]])
    assert S.reflection_positivity_kernel(S.FreeCosNet(m=1.0).nngp_kernel, x).passed
    # the constructed kernel is a valid covariance (positive spectrum 6/((1+k^2)(4+k^2))) ...
    grid = np.linspace(-3, 3, 9)[:, None]
    assert np.linalg.eigvalsh(_bad_kernel(grid, grid)).min() > 0
    # ... but has negative spectral weight in E, so it violates reflection positivity
    bad = S.reflection_positivity_kernel(_bad_kernel, x)
    assert not bad.passed and bad.estimate[0] < -1e-3
    # the zoo CosNet's Gaussian kernel is NOT reflection positive (det < 0 for any two times)
    assert not S.reflection_positivity_kernel(nf.CosNet().nngp_kernel, x).passed
    with pytest.raises(NNFTError, match="positive Euclidean time"):
        S.reflection_positivity_kernel(_bad_kernel, -x)


def test_reflection_positivity_ensembles():
    x = np.array([[0.2], [0.6], [1.0], [1.5]])
    ok = S.reflection_positivity_test(S.reflection_ensemble(S.FreeCosNet(width=30), x, 3000, K(13)))
    assert ok.passed
    bad = S.reflection_positivity_test(S.reflection_ensemble(S.kernel_sampler(_bad_kernel), x, 20000, K(14)))
    assert not bad.passed and bad.statistic < 0


def test_cluster_decay():
    pair = np.array([[0.0], [0.3]])
    r = [0.5, 1.0, 2.0, 6.0]
    gp = S.cluster_test(S.cluster_ensemble(S.kernel_sampler(nf.CosNet().nngp_kernel), pair, r, 3000, K(15)))
    assert gp.passed and gp.extra["g2c"][0] > 5 * gp.extra["g2c_se"][0]  # decays from a resolved value
    # two neurons: the shared readout weight couples distant pairs at O(1/N): no clustering
    narrow = S.cluster_test(S.cluster_ensemble(nf.CosNet(width=2), pair, r, 3000, K(16)))
    assert not narrow.passed
    erf = S.cluster_test(S.cluster_ensemble(nf.ErfNet(width=30), pair, r, 3000, K(17)))
    assert not erf.passed  # G2 does not decay


def test_bad_input():
    tree = S.prior_ensemble(nf.CosNet(width=20), X1, 100, K(0))
    with pytest.raises(NNFTError, match="x"):
        S.as_fields(np.zeros((100, 3)), x=np.zeros((4, 1)))
    with pytest.raises(NNFTError, match="at least"):
        S.z2_test(np.zeros((5, 3)), x=X1)
    with pytest.raises(NNFTError, match="group"):
        S.z2_test(tree, group="nope")
    with pytest.raises(NNFTError, match="phi_g"):
        S.invariance_test(tree)
    with pytest.raises(NNFTError, match="kind"):
        S.z2_test(np.zeros((100, 3)), x=X1, kind="bogus")
    with pytest.raises(NNFTError, match="input dimension"):
        S.translation_test(nf.CosNet(d=2), X1, SHIFTS1, 100, K(0))
    with pytest.raises(NNFTError, match="d >= 2"):
        S.rotation_test(nf.CosNet(), X1, np.eye(1)[None], 100, K(0))


def test_mcmc_uses_ess():
    """AR(1) chains with rho = 0.9: the i.i.d. formula understates the error ~4.4x; the ESS one is honest."""
    rng = np.random.default_rng(0)
    rho, c, d, p = 0.9, 4, 1000, 3
    z = np.zeros((200, c, d, p))
    eps = rng.normal(size=z.shape) * np.sqrt(1 - rho**2)
    z[:, :, 0] = rng.normal(size=(200, c, p))
    for t in range(1, d):
        z[:, :, t] = rho * z[:, :, t - 1] + eps[:, :, t]
    true_se = z.mean((1, 2)).std(0).mean()
    _, se_iid, _ = S.mean_se(z[0], "iid")
    _, se_ess, n_eff = S.mean_se(z[0], "mcmc")
    assert se_iid.mean() < 0.4 * true_se
    assert abs(se_ess.mean() / true_se - 1) < 0.25
    tree = S.fields_datatree(z[0], X1, "mcmc")
    assert S.as_fields(tree).kind == "mcmc"
    assert S.z2_test(tree, orders=(1,)).n_eff == pytest.approx(n_eff.min())


def test_results_travel_with_datatree(tmp_path):
    tree = S.prior_ensemble(nf.CosNet(width=20), X1, 200, K(0))
    res = [S.z2_test(tree), S.permutation_test(tree)]
    S.attach_results(tree, res)
    path = tmp_path / "ens.nc"
    tree.to_netcdf(path)
    back = xr.open_datatree(path).load()
    rows = S.read_results(back)
    assert rows[res[0].name]["statistic"] == pytest.approx(res[0].statistic)
    assert rows[res[0].name]["passed"] is True
    assert np.allclose(S.as_fields(back).phi, S.as_fields(tree).phi)
