"""Symmetry tests as a registry, field samplers as a declared base, honest keys and groups, the
library's phi^4 convention, exact constant quantities in MCMC files. Small ensembles, fixed keys."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import nnft_ppl as nf
from nnft_ppl import NNFTError
from nnft_ppl import symmetry as S
from nnft_ppl.cli import main
from nnft_ppl.deform import Custom, Phi3, Phi4
from nnft_ppl.stats import mcmc_mean_se, se_threshold
from nnft_ppl.symmetry import report as R

K = jax.random.PRNGKey
X1 = np.array([[0.2], [0.7], [1.3]])


def _first_point_mean(ctx):
    return S.zero_test("first-point mean", ctx.fields.phi[:, :, :1, 0], ctx.fields.kind, ctx.alpha)


def test_registered_test_is_reported_by_the_cli(tmp_path):
    check = S.SymmetryCheck("first-point mean", lambda c: c.fields.n_out == 1, _first_point_mean)
    S.register_symmetry_test(check)
    try:
        with pytest.raises(NNFTError, match="already registered"):
            S.register_symmetry_test(check)
        tree = S.prior_ensemble(nf.CosNet(width=10), X1, 100, K(1))
        tree.to_netcdf(tmp_path / "res.nc")
        assert main(["symmetry", str(tmp_path / "res.nc"), "--out", str(tmp_path / "rep")]) == 0
        assert "| first-point mean |" in (tmp_path / "rep" / "summary.md").read_text()
    finally:
        S.unregister_symmetry_test("first-point mean")
    assert "first-point mean" not in S.SYMMETRY_TESTS
    # the power table is the registry's too
    assert [r for r in S.SYMMETRY_TESTS if S.SYMMETRY_TESTS[r].power] == [
        "Z2",
        "rotation SO(d)",
        "translation",
        "internal SO(D)",
    ]


class WhiteNoise(S.FieldSampler):
    """Independent N(0, s^2) values at distinct points: a declared FieldSampler defined outside the package."""

    d: int = 1
    s: float = 1.0

    def sample_fields(self, keys, x, dtype=jnp.float64):
        return jax.vmap(lambda k: self.s * jax.random.normal(k, (x.shape[0],), dtype))(keys)

    def nngp_kernel(self, x1, x2):
        same = jnp.all(jnp.asarray(x1)[:, None] == jnp.asarray(x2)[None], -1)
        return self.s**2 * same.astype(jnp.float64)


def test_field_sampler_base_is_accepted_by_the_report():
    assert "WhiteNoise" in R.extra_models()
    tree, res = R.run_ensemble({"name": "wn", "architecture": "WhiteNoise", "n": 200, "key": 3})
    names = [r.name.split(":")[0] for r in res]
    assert names[0] == "Z2: odd G_n = 0".split(":")[0] and "reflection positivity (kernel)" in names
    assert all(r.passed for r in res), [r.row() for r in res]
    with pytest.raises(NNFTError, match="FieldSampler"):
        S.prior_ensemble(object(), X1, 100, K(0))


def _key_bytes(k):
    k = jnp.asarray(k)
    if jnp.issubdtype(k.dtype, jax.dtypes.prng_key):
        k = jax.random.key_data(k)
    return np.asarray(k).reshape(-1, 2)


@pytest.fixture
def spy_keys(monkeypatch):
    """Record every network key drawn and every Haar-rotation key used."""
    seen = {"net": set(), "rot": set()}
    draw, haar = S._data.draw_fields, S.invariance.haar_rotation

    def draw_spy(model, x, n, key):
        seen["net"].update(map(tuple, _key_bytes(jax.random.split(key, n))))
        return draw(model, x, n, key)

    def haar_spy(key, d):
        seen["rot"].update(map(tuple, _key_bytes(key)))
        return haar(key, d)

    monkeypatch.setattr(S._data, "draw_fields", draw_spy)
    monkeypatch.setattr(S.invariance, "haar_rotation", haar_spy)
    return seen


def test_networks_and_rotations_have_independent_keys(spy_keys):
    """Formerly rotation j and network j shared a subkey (report_tree and power_scan used one key for both)."""
    vg = S.VectorGaussNet(width=5, n_out=2)
    tree = S.prior_ensemble(vg, X1[:2], 60, K(0))
    R.report_tree(tree)
    R.power_scan({"params": {"width": 5}, "n": 60, "mu": [0.0], "key": 0})
    assert spy_keys["rot"] and spy_keys["net"]
    assert not spy_keys["rot"] & spy_keys["net"]


def test_iid_draws_in_prior_group_old_files_still_read(tmp_path):
    tree = S.prior_ensemble(nf.CosNet(width=10), X1, 100, K(2))
    assert "prior" in tree.children and "posterior" not in tree.children
    assert S.as_fields(tree).kind == "iid"
    old = xr.DataTree.from_dict({"posterior": tree["prior"].to_dataset()})  # an earlier release's layout
    assert S.as_fields(old).kind == "iid"
    np.testing.assert_array_equal(S.as_fields(old).phi, S.as_fields(tree).phi)
    assert R.report_tree(old)[1][0].passed


def test_constant_quantity_is_exact_in_mcmc_files(tmp_path):
    """phi = 0 in every draw at one point (e.g. an odd network at x = 0): G1 and G3 there are exactly 0."""
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(4, 100, 3))
    phi[..., 0] = 0.0
    m, se, ess = mcmc_mean_se(phi)
    assert se[0] == 0.0 and ess[0] == 400 and np.all(np.isfinite(se)) and np.all(se[1:] > 0)
    S.fields_datatree(phi, X1, "mcmc").to_netcdf(tmp_path / "mcmc.nc")
    assert main(["symmetry", str(tmp_path / "mcmc.nc"), "--out", str(tmp_path / "rep")]) == 0
    row = (tmp_path / "rep" / "summary.md").read_text().split("| Z2")[1].split("\n")[0]
    assert "pass" in row and "nan" not in row, row


def test_permutation_only_where_it_has_power():
    tree = S.prior_ensemble(nf.CosNet(width=10), X1, 100, K(4))
    assert not any(r.name.startswith("permutation") for r in R.report_tree(tree)[1])
    g = np.array([[1.0, 0.5], [0.5, 2.0]])
    ok = tree.copy()
    ok["correlators"] = xr.DataTree(xr.Dataset({"G2": (("a", "b"), g), "G2_se": (("a", "b"), np.full((2, 2), 0.01))}))
    assert [r.passed for r in R.report_tree(ok)[1] if r.name.startswith("permutation")] == [True]
    bad = ok.copy()
    bad["correlators"] = xr.DataTree(bad["correlators"].to_dataset().assign(G2=(("a", "b"), g + [[0, 0.2], [0, 0]])))
    assert [r.passed for r in R.report_tree(bad)[1] if r.name.startswith("permutation")] == [False]


def test_one_phi4_convention():
    """deformed_ensemble weighs by exp(-sum_i V(phi_i)) with deform's V = kappa phi^3/3! + lam phi^4/4!."""
    arch = nf.CosNet(width=10)
    with pytest.warns(DeprecationWarning, match="lam = 24 g4") as rec:
        old = S.deformed_ensemble(arch, X1, 1000, K(6), g3=0.3, g4=0.1)
    assert rec[0].filename == __file__  # the warning points at the caller
    new = S.deformed_ensemble(arch, X1, 1000, K(6), Phi3(1.8) + Phi4(2.4))
    np.testing.assert_array_equal(S.as_fields(old).phi, S.as_fields(new).phi)
    # the ensemble is the prior reweighted by exp(-sum_i lam phi_i^4 / 4!): <phi^2> against reweighted draws
    lam, n = 6.0, 1000
    ens = S.as_fields(S.deformed_ensemble(arch, X1, n, K(7), Phi4(lam))).phi[0, :, :, 0]
    # prior draws in batches of the rejection sampler's size: one compiled sampler serves the whole test
    prior = np.concatenate([S._data.draw_fields(arch, X1, 2 * n, k)[..., 0] for k in jax.random.split(K(8), 4)])

    def reweighted_z(weight):
        w = weight / weight.sum()
        rw = w @ prior**2
        rw_var = np.sum(w[:, None] ** 2 * (prior**2 - rw) ** 2, 0)
        return ((ens**2).mean(0) - rw) / np.sqrt((ens**2).var(0, ddof=1) / n + rw_var)

    z = reweighted_z(np.exp(-np.sum(lam * prior**4 / 24, -1)))
    assert np.max(np.abs(z)) < se_threshold(3), z
    # the g4 phi^4 reading (no 1/4!) would be many SE off: the comparison has power
    assert np.max(np.abs(reweighted_z(np.exp(-np.sum(lam * prior**4, -1))))) > 4
    with pytest.raises(NNFTError, match="not a polynomial"):
        S.deformed_ensemble(arch, X1, 100, K(0), Custom(jnp.cosh))
    with pytest.raises(NNFTError, match="unbounded below"):
        S.deformed_ensemble(arch, X1, 100, K(0), Phi3(1.0))


def test_registry_rejects_bad_input():
    with pytest.raises(NNFTError, match="SymmetryCheck"):
        S.register_symmetry_test(dataclasses.asdict(S.SYMMETRY_TESTS["Z2"]))
    with pytest.raises(NNFTError, match="no symmetry test"):
        S.unregister_symmetry_test("nope")
    with pytest.raises(NNFTError, match="no power scan"):
        S.power_table(grids={"cluster decomposition": [0.0]})
