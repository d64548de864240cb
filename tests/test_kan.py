"""KANs: the B-spline basis, the zoo entry's kernel quadrature, and a trained KAN that fits x y.

The zoo-wide tests (test_architectures, test_estimators, test_gp, ...) cover the KAN prior, its
Monte Carlo G2 against the kernel, PSD, GPJax and gradients; these add what is KAN-specific."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnft_ppl import NNFTError
from nnft_ppl.architectures import KAN
from nnft_ppl.architectures._bspline import bspline_basis
from nnft_ppl.architectures.kan import KERNEL_NODES, _dual_matrix
from nnft_ppl.expressivity import KANSpec, edge_functions, fit, kan_init, make_optimizer, plot_edges, rmse, train_kan

matplotlib.use("Agg")


def test_bspline_basis_partition_of_unity_support_and_numpy():
    """Non-negative, sums to one on [-bound, bound], vanishes beyond the extended grid; the
    NumPy and JAX evaluations agree to rounding."""
    grid, order, bound = 5, 3, 2.0
    t = np.linspace(-bound, bound - 1e-9, 101)
    basis = jax.jit(bspline_basis, static_argnums=(1, 2, 3))  # one compile per shape, not one per op
    b = np.asarray(basis(jnp.asarray(t), grid, order, bound))
    assert b.shape == (101, grid + order) and b.min() >= -1e-15
    np.testing.assert_allclose(b.sum(-1), 1.0, atol=1e-13)
    h = 2 * bound / grid
    out = np.array([-bound - order * h - 0.01, bound + order * h + 0.01, 50.0])
    np.testing.assert_array_equal(np.asarray(basis(jnp.asarray(out), grid, order, bound)), 0.0)
    np.testing.assert_allclose(bspline_basis(t, grid, order, bound), b, rtol=0, atol=1e-14)


def test_kernel_quadrature_converged():
    """The kernel's 64^2-node rule agrees with a 192^2-node rule to 2e-4 (absolute, at kernel
    values ~0.5; the B-splines' kinks make Gauss-Hermite converge algebraically, worst on the
    diagonal): far below the Monte Carlo error bars of the zoo-wide tests (~1e-2)."""
    arch = KAN(d=2)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 2))
    f = np.asarray(arch.input_features(jnp.asarray(x)))
    a, c = np.sum(f * f, 1), f @ f.T
    coarse = _dual_matrix(a, c, a, arch.bound, arch.sspline, arch.grid, arch.order, KERNEL_NODES)
    fine = _dual_matrix(a, c, a, arch.bound, arch.sspline, arch.grid, arch.order, 192)
    np.testing.assert_allclose(coarse, fine, rtol=0, atol=2e-4)
    np.testing.assert_allclose(np.asarray(arch.nngp_kernel(x, x)), arch.sw**2 * np.asarray(coarse), rtol=1e-13)


@pytest.fixture(scope="module")
def trained_xy():
    rng = np.random.default_rng(0)
    # 128 training points: twice the 60 parameters of a [2, 2, 1] KAN with grid 5, cubic; a fit that
    # merely interpolated them would show in the RMSE on the 1000 fresh test points
    x, x_test = rng.uniform(-1, 1, (128, 2)), rng.uniform(-1, 1, (1000, 2))
    spec = KANSpec((2, 2, 1), grid=5, order=3, bound=1.0)
    params, history = train_kan(spec, x, x[:, 0] * x[:, 1], key=1, n_nets=4, steps=1000, learning_rate=1e-2)
    return spec, params, history, x_test


def test_trained_kan_fits_xy(trained_xy):
    """A [2, 2, 1] KAN (x y = ((x + y)^2 - (x - y)^2) / 4 needs two hidden nodes) trained for 1000
    Adam steps from a fixed key: every one of the 4 networks has test RMSE below 0.03 on
    [-1, 1]^2, under a tenth of the target's own RMS (1/3). Deterministic run: a fixed threshold."""
    spec, params, history, x_test = trained_xy
    err = rmse(spec, params, x_test, x_test[:, 0] * x_test[:, 1])
    assert err.shape == (4,) and np.all(err < 0.03), err
    assert np.all(history[:, -1] < 1e-2 * history[:, 0])  # and it learned (the loss fell 100x)


def test_plot_edges_returns_figure_and_accepts_ax(trained_xy):
    spec, params, _, _ = trained_xy
    one = jax.tree.map(lambda a: a[0], params)
    fig = plot_edges(spec, one)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 2
    fig2, axes = plt.subplots(1, 2)
    assert plot_edges(spec, one, ax=axes) is fig2
    with pytest.raises(NNFTError, match="ax"):
        plot_edges(spec, one, ax=axes[:1])
    phi = np.asarray(edge_functions(spec, one[0], jnp.linspace(-1, 1, 5)))
    assert phi.shape == (2, 2, 5) and np.all(np.isfinite(phi))
    plt.close("all")


def test_bad_input_names_the_argument():
    with pytest.raises(NNFTError, match="widths"):
        kan_init(KANSpec((2, 3, 2)), 0)
    with pytest.raises(NNFTError, match="bound"):
        kan_init(KANSpec(bound=-1.0), 0)
    with pytest.raises(NNFTError, match="x"):
        train_kan(KANSpec(), np.zeros((5, 3)), np.zeros(5), steps=2)
    with pytest.raises(NNFTError, match="learning_rate"):
        make_optimizer("adam", 0.0)
    with pytest.raises(NNFTError, match="optimizer"):
        make_optimizer("lbfgs-ish", 1e-3)
    with pytest.raises(NNFTError, match="y"):
        fit(lambda p, x: x[:, 0] * p, jnp.ones(2), np.zeros((5, 1)), np.zeros(4), make_optimizer("sgd", 0.1), 2)
    with pytest.raises(NNFTError, match="order"):
        KAN(order=0)


def test_divergent_learning_rate_is_an_error_not_nan():
    x = np.linspace(-1, 1, 16)[:, None]
    with pytest.raises(NNFTError, match="diverged"):
        fit(lambda p, x: x[:, 0] * p, jnp.ones(2), x, 3 * x[:, 0], make_optimizer("sgd", 1e3), 400)
