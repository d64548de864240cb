"""The streaming estimators: exactness against closed forms, determinism, chunk independence,
the neuron-level shortcut, checkpoints, storage and bad input."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import xarray as xr
from helpers import ZOO, assert_within_se, sorted_unique

from nnft_ppl import NNFTError
from nnft_ppl._tensors import sorted_tuple_array
from nnft_ppl.architectures import REGISTRY, IIDNeuronArchitecture, make_architecture
from nnft_ppl.architectures._activations import gaussian_moment
from nnft_ppl.ensemble import ensemble_correlators, neuron_correlators
from nnft_ppl.ensemble._stream import step_chunk
from nnft_ppl.theory import exact_connected, exact_connected_at, exact_moment, wick

POINTS_1D = np.array([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0])


def _points(name, d, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, size=(4, d)) / np.sqrt(d)
    return 0.05 * x if name == "GaussNet" else x  # GaussNet: the paper's small inputs keep its tails tame


@pytest.mark.parametrize("width", [2, 5])
@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("name", ["GaussNet", "CosNet"])
def test_g4c_matches_exact_formula(name, d, width):
    """Network-level connected 4-pt within 4 SE (Bonferroni over distinct entries) of the exact 1/N formula."""
    x = _points(name, d, seed=100 * d + width)
    arch = make_architecture(name, width=width, d=d)
    ds = ensemble_correlators(arch, x, 60_000, key=11, max_order=4, progress=False)
    exact = exact_connected(arch, x, 4)
    mask = sorted_unique(exact.shape)
    assert_within_se(ds.G4c.values, ds.G4c_se.values, exact, 64, unique=mask, what=f"{name} d={d} N={width}")


def test_g6c_matches_exact_formula_cosnet():
    x = np.array([-0.5, 0.1, 0.7])
    arch = make_architecture("CosNet", width=2)
    ds = ensemble_correlators(arch, x, 60_000, key=3, max_order=6, progress=False)
    exact = exact_connected(arch, x, 6)
    assert_within_se(ds.G6c.values, ds.G6c_se.values, exact, 64, unique=sorted_unique(exact.shape), what="CosNet G6c")


def test_full_g4_matches_exact_moment():
    """The full finite-width G4 (Wick part plus the 1/N connected part) against MC."""
    x = np.array([-0.6, 0.1, 0.8])
    arch = make_architecture("CosNet", width=2)
    ds = ensemble_correlators(arch, x, 60_000, key=13, max_order=4, progress=False)
    exact = exact_moment(arch, x, 4)
    assert_within_se(ds.G4.values, ds.G4_se.values, exact, 64, unique=sorted_unique(exact.shape), what="CosNet G4")
    gp_only = wick(np.asarray(arch.nngp_kernel(x[:, None], x[:, None])), 4)  # the GP alone misses G4c at N = 2
    with pytest.raises(AssertionError):
        assert_within_se(ds.G4.values, ds.G4_se.values, gp_only, 64, unique=sorted_unique(exact.shape))


def test_linear_features_exact_cumulants():
    arch = make_architecture("LinearFeatures", width=3, weights="uniform")
    x = np.array([-0.7, 0.0, 0.4])
    ds = ensemble_correlators(arch, x, 40_000, key=5, max_order=4, progress=False)
    for order in (2, 4):
        exact = exact_connected(arch, x, order)
        assert_within_se(
            ds[f"G{order}c"].values,
            ds[f"G{order}c_se"].values,
            exact,
            64,
            unique=sorted_unique(exact.shape),
            what=f"LinearFeatures G{order}c",
        )


def test_exact_connected_at_tuples_equals_the_tensor_entries():
    """Values and errors at index tuples (any order within a tuple) are the full tensors' entries,
    bit for bit; bad tuples are refused naming the argument."""
    arch = make_architecture("ReLUNet", width=3)
    x = POINTS_1D[:3]
    full, err = exact_connected(arch, x, 4, return_error=True)
    tup = np.array([[2, 0, 1, 1], [0, 0, 0, 0], [2, 2, 1, 0]])
    vals, errs = exact_connected_at(arch, x, tup)
    np.testing.assert_array_equal(vals, full[tuple(tup.T)])
    np.testing.assert_array_equal(errs, err[tuple(tup.T)])
    for bad in ([[0, 3]], [[0]], [[0.0, 1.0]], [0, 1]):
        with pytest.raises(NNFTError, match="tuples:"):
            exact_connected_at(arch, x, bad)


def test_estimators_detect_a_wrong_formula():
    """The same check fails when the exact formula is off by the N -> N+1 mistake (power of the test)."""
    x = np.array([-0.4, 0.3])
    arch = make_architecture("CosNet", width=2)
    ds = ensemble_correlators(arch, x, 200_000, key=1, max_order=4, progress=False)
    wrong = exact_connected(arch, x, 4, width=3)
    with pytest.raises(AssertionError):
        assert_within_se(ds.G4c.values, ds.G4c_se.values, wrong, 64, unique=sorted_unique(wrong.shape))


@pytest.mark.parametrize("name", [n for n in ZOO if issubclass(REGISTRY[n], IIDNeuronArchitecture)])
def test_neuron_level_agrees_with_network_level(name):
    x = 0.05 * POINTS_1D[:4] if name == "GaussNet" else POINTS_1D[:4]
    arch = make_architecture(name, width=3)
    net = ensemble_correlators(arch, x, 60_000, key=21, max_order=4, progress=False)
    neu = neuron_correlators(arch, x, 60_000, key=22, max_order=4, progress=False)
    diff = net.G4c.values - neu.G4c.sel(width=3).values
    se = np.sqrt(net.G4c_se.values**2 + neu.G4c_se.sel(width=3).values ** 2)
    assert_within_se(diff, se, 0.0, 64, unique=sorted_unique(diff.shape), what=f"{name} neuron vs network")
    exact, quad_err = exact_connected(arch, x, 4, return_error=True)  # quadrature error beside the MC SE
    # the readout-integrated network-level estimator (`collapse=True`): the same hidden layers as `net`'s
    col = ensemble_correlators(arch, x, 20_000, key=21, max_order=4, progress=False, collapse=True)
    for what, g4c, se in (
        ("neuron", neu.G4c.sel(width=3).values, neu.G4c_se.sel(width=3).values),
        ("readout-integrated network", col.G4c.values, col.G4c_se.values),
    ):
        unique = sorted_unique(exact.shape)
        assert_within_se(g4c, np.hypot(se, quad_err), exact, 64, unique=unique, what=f"{name} {what} vs exact")
    g2, g2_err = exact_connected(arch, x, 2, return_error=True)  # the output bias enters only G2
    unique = sorted_unique(g2.shape)
    assert_within_se(col.G2.values, np.hypot(col.G2_se.values, g2_err), g2, 64, unique=unique, what=f"{name} G2")


def test_same_key_same_result_and_chunk_independent():
    arch = make_architecture("ErfNet", width=4)
    kw = dict(max_order=4, progress=False)
    a = ensemble_correlators(arch, POINTS_1D[:3], 3000, key=9, chunk=16, **kw)
    b = ensemble_correlators(arch, POINTS_1D[:3], 3000, key=9, chunk=16, **kw)
    c = ensemble_correlators(arch, POINTS_1D[:3], 3000, key=9, chunk=1000, **kw)
    d = ensemble_correlators(arch, POINTS_1D[:3], 3000, key=10, chunk=16, **kw)
    # the steps really differ: three of 16 per 47-network block against one of the bucketed 48
    assert (step_chunk(16, 3000, 64, 1), step_chunk(1000, 3000, 64, 1)) == (16, 48)
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values)
        np.testing.assert_allclose(a[v].values, c[v].values, rtol=1e-12, atol=1e-13)
    assert not np.allclose(a.G2.values, d.G2.values)


def test_runs_of_nearby_sizes_share_one_compiled_step(monkeypatch):
    """Chunks come in half-octave buckets: 2,800 and 3,000 networks in 64 blocks (44 and 47 per block,
    chunk 48) run one compiled step; 9,000 (141 per block, chunk 192) compiles a second. Same samples
    as an unbucketed chunk (test above), so only the association of the sums changes."""
    from nnft_ppl.ensemble import _stream

    monkeypatch.setattr(_stream, "_STEPS", {})
    arch, kw = make_architecture("ErfNet", width=4), dict(key=9, max_order=2, progress=False)
    sizes = {}
    for n in (2800, 3000, 9000):
        ensemble_correlators(arch, POINTS_1D[:3], n, **kw)
        sizes[n] = sorted(ck[3] for ck in _stream._STEPS)  # the chunk of each compiled step
    assert sizes == {2800: [48], 3000: [48], 9000: [48, 192]}, sizes
    buckets = [_stream.bucket_size(m) for m in (1, 2, 3, 4, 5, 7, 47, 48, 49, 64, 65, 97)]
    assert buckets == [1, 2, 3, 4, 6, 8, 48, 48, 64, 64, 96, 128], buckets


def test_tuples_mode_equals_full_tensors():
    arch = make_architecture("ReLUNet", width=3)
    x = np.linspace(-1, 1, 5)
    full = ensemble_correlators(arch, x, 2000, key=2, max_order=4, progress=False)
    tuples = [(0, 1, 2, 3), (4, 4, 1, 0), (2, 2, 2, 2)]
    part = ensemble_correlators(arch, x, 2000, key=2, max_order=4, tuples=tuples, progress=False)
    for i, t in enumerate(tuples):
        np.testing.assert_allclose(part.G4c.values[i], full.G4c.values[t], rtol=1e-10)
        np.testing.assert_allclose(part.G4c_se.values[i], full.G4c_se.values[t], rtol=1e-8)


def test_kstatistics_unbiased_at_tiny_n():
    """Averaged over 150 tiny ensembles (n = 112) the k-statistic G4c matches the exact value
    within 4 SE of the mean: no O(1/n) bias."""
    arch = make_architecture("CosNet", width=1)
    x = np.array([0.0])
    exact = exact_connected(arch, x, 4)[0, 0, 0, 0]
    vals = []
    for s in range(150):
        ds = ensemble_correlators(arch, x, 112, key=1000 + s, max_order=4, n_blocks=8, progress=False)
        vals.append(float(ds.G4c.values[0, 0, 0, 0]))
    vals = np.asarray(vals)
    assert abs(vals.mean() - exact) <= 4 * vals.std(ddof=1) / np.sqrt(len(vals))


def test_netcdf_round_trip(tmp_path):
    ds = ensemble_correlators(make_architecture("CosNet", width=3), POINTS_1D[:3], 2000, key=1, progress=False)
    ds.to_netcdf(tmp_path / "r.nc", engine="h5netcdf")
    back = xr.load_dataset(tmp_path / "r.nc", engine="h5netcdf")
    xr.testing.assert_allclose(ds, back)
    assert back.attrs["architecture"] == "CosNet" and back.attrs["n_nets"] == 2000


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=[[0.0, 1.0]]), "x"),  # wrong input dimension
        (dict(x=[np.nan, 0.0]), "x"),
        (dict(x=[[[0.0]]]), "x"),
        (dict(n_nets=10), "n_nets"),
        (dict(max_order=7), "max_order"),
        (dict(max_order=1), "max_order"),
        (dict(dtype="float16"), "dtype"),
        (dict(key="abc"), "key"),
        (dict(key=2**70), "key"),
        (dict(key=jax.random.split(jax.random.key(0), 3)), "key"),
        (dict(dtype=np.int32), "dtype"),
        (dict(chunk=0), "chunk"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    args = dict(x=POINTS_1D[:3], n_nets=1000, key=0)
    args.update(kwargs)
    with pytest.raises(NNFTError, match=match):
        ensemble_correlators(
            make_architecture("ErfNet", width=3), args.pop("x"), args.pop("n_nets"), progress=False, **args
        )


def test_neuron_estimator_rejects_dependent_neurons():
    with pytest.raises(NNFTError, match="i.i.d. neurons"):
        neuron_correlators(make_architecture("DeepMLP", width=4), POINTS_1D[:2], 1000, progress=False)
    with pytest.raises(NNFTError, match="exact"):
        exact_connected(make_architecture("DeepMLP", width=4), POINTS_1D[:2], 4)
    with pytest.raises(NNFTError, match="order"):
        exact_connected(make_architecture("ErfNet", width=4), POINTS_1D[:2], 8)


def test_quadrature_exact_values_carry_their_error():
    """Quadrature-based exact cumulants report an error estimate that covers the rule's actual error
    (ReLUNet in d = 3, rank-3 neuron moments: ~1e-4 relative, against a 2x larger node budget); ReLU
    moments on a range of rank <= 2 (two points) are exact to rounding; closed forms report zero."""
    x = np.array([[0.3, -0.5, 0.2], [-0.4, 0.1, 0.6], [0.7, 0.2, -0.3]])
    arch = make_architecture("ReLUNet", width=5, d=3)
    value, err = exact_connected(arch, x[:2], 4, return_error=True)
    mask = sorted_unique(value.shape)
    assert np.all(err[mask] < 1e-12 * np.abs(value[mask]).max())
    for idx in ([0, 1, 2, 2], [0, 0, 1, 2]):  # rank-3 neuron moments (~1e-4 relative), against a finer rule
        cov = arch.preactivation_cov(x[idx])
        v, e = gaussian_moment(arch.act.fn, cov, with_error=True)
        assert 0 < abs(v - gaussian_moment(arch.act.fn, cov, budget=400_000)) <= e < 1e-3 * abs(v)
    for name in ("GaussNet", "CosNet", "LinearFeatures"):
        _, e = exact_connected(make_architecture(name, width=3, d=3), x, 4, return_error=True)
        assert np.all(e == 0), name


def test_relu_moments_at_rank_two_are_exact():
    """In d = 1 a ReLU neuron is h(x) = rho relu(sw x cos t + sb sin t) with rho^2 ~ chi^2_2 and t uniform,
    so E[h(x_1)...h(x_k)] = E[rho^k] E_t[prod relu(...)]: a one-dimensional integral of a piecewise
    smooth periodic function, which the midpoint rule on 2^20 angles gets to ~1e-11 (its error at the
    kinks is O(h^2)). Every four-point moment of four points agrees with it within that and the
    reported error (the tensor Gauss-Hermite rule used before was ~1e-5 relative off, its error estimate
    4-10x short on some), and every two-point moment with the arc-cosine closed form to rounding."""
    arch = make_architecture("ReLUNet", width=3, sw=1.3, sb=0.8)
    x = np.array([-0.7, 0.1, 0.6, 0.9])
    t = (np.arange(2**20) + 0.5) * (2 * np.pi / 2**20)
    cols = np.maximum(1.3 * x[:, None] * np.cos(t) + 0.8 * np.sin(t), 0.0)
    for idx in sorted_tuple_array(4, 4):
        exact = 8.0 * np.mean(np.prod(cols[idx], axis=0))  # E[rho^4] = 8
        v, e = gaussian_moment(arch.act.fn, arch.preactivation_cov(x[idx, None]), with_error=True)
        assert abs(v - exact) <= e + 1e-10 * exact, (idx, v, exact, e)
    k = np.asarray(arch.nngp_kernel(x[:, None], x[:, None]))  # sb^2 + sw^2 E[relu relu]: the closed form
    for i, j in sorted_tuple_array(4, 2):
        m = gaussian_moment(arch.act.fn, arch.preactivation_cov(x[[i, j], None]))
        np.testing.assert_allclose(1.3**2 * m + 0.8**2, k[i, j], rtol=1e-13)


def test_exact_values_that_overflow_are_a_numerical_error():
    """GaussNet's neuron moments exp(4 sw^2 x^2) overflow at sw = 50, x = 3: a numerical failure on valid
    input (NNFTNumericalError, not NNFTError), never a silent inf."""
    from nnft_ppl import NNFTNumericalError

    with pytest.raises(NNFTNumericalError, match="overflow"):
        exact_connected(make_architecture("GaussNet", width=3, sw=50.0), np.array([3.0]), 4)
