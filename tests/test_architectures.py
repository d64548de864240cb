"""Every zoo entry: its NumPyro prior, apply, fast sampler and NNGP kernel agree."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import ZOO, assert_within_se, zoo_arch
from numpyro import handlers

from nnft_ppl import NNFTError
from nnft_ppl.architectures import REGISTRY, IIDNeuronArchitecture, SingleLayer, make_architecture, scale_names
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.gp import NNGPKernel


@pytest.mark.parametrize("name", ZOO)
def test_prior_has_named_sites_and_phi_equals_apply(name):
    arch = zoo_arch(name, d=2)
    x = np.random.default_rng(0).normal(size=(5, 2))
    tr = handlers.trace(handlers.seed(arch.prior, jax.random.key(1))).get_trace(x)
    sites = {k: v for k, v in tr.items() if v["type"] == "sample"}
    assert sites, "the prior has no sample sites"
    theta = {k: v["value"] for k, v in sites.items()}
    np.testing.assert_allclose(tr["phi"]["value"], arch.apply(theta, jnp.asarray(x)), rtol=1e-12, atol=1e-12)
    assert np.all(np.isfinite(np.asarray(tr["phi"]["value"])))


@pytest.mark.parametrize("name", ZOO)
def test_kernel_symmetric_psd(name, rng):
    arch = zoo_arch(name, d=3)
    x = rng.normal(size=(7, 3))
    k = np.asarray(arch.nngp_kernel(x, x))
    np.testing.assert_allclose(k, k.T, atol=1e-12)
    assert np.linalg.eigvalsh(k).min() > -1e-9 * np.abs(k).max()


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("name", ZOO)
def test_monte_carlo_g2_matches_kernel(name, d):
    """Monte Carlo G2 within 4 SE (Bonferroni over the distinct pairs) of nngp_kernel plus the known
    finite-width correction (zero where G2 is exactly the kernel; O(1/N) for DeepMLP at depth 2), on
    fixed points with a fixed sampling key."""
    x = np.random.default_rng(1000 + d).uniform(-1.0, 1.0, size=(5, d)) / np.sqrt(d)
    arch = zoo_arch(name, d=d)
    ds = ensemble_correlators(arch, x, 20_000, key=7, max_order=2, progress=False)
    corr = arch.g2_correction(x)
    ref = np.asarray(arch.nngp_kernel(x, x)) + corr
    iu = np.triu_indices(5)
    # the remainder beyond the known correction is O(1/N^2): far below the SE when the correction is
    assert np.abs(corr[iu]).max() <= 0.5 * ds.G2_se.values[iu].min(), f"{name}: correction not small at this width"
    assert_within_se(ds.G2.values[iu], ds.G2_se.values[iu], ref[iu], ds.attrs["n_blocks"], what=f"{name} d={d} G2")


@pytest.mark.parametrize("name", [n for n in ZOO if issubclass(REGISTRY[n], IIDNeuronArchitecture)])
def test_collapsed_sampler_agrees_with_prior(name):
    """The fast collapsed readout draws the same distribution as the NumPyro prior (G2 and G4c within errors)."""
    arch = zoo_arch(name, width=8)
    x = np.linspace(-0.8, 0.8, 4)
    keys = jax.random.split(jax.random.key(3), 40_000)
    fast = np.asarray(jax.jit(lambda k: arch.sample_fields(k, x[:, None]))(keys))
    slow = np.asarray(jax.jit(lambda k: super(IIDNeuronArchitecture, arch).sample_fields(k, x[:, None]))(keys))
    for order in (2, 4):
        f = np.mean(fast[:, :, None] ** (order // 2) * fast[:, None, :] ** (order // 2), 0)
        s = np.mean(slow[:, :, None] ** (order // 2) * slow[:, None, :] ** (order // 2), 0)
        vf = np.var(fast[:, :, None] ** (order // 2) * fast[:, None, :] ** (order // 2), 0)
        vs = np.var(slow[:, :, None] ** (order // 2) * slow[:, None, :] ** (order // 2), 0)
        se = np.sqrt((vf + vs) / len(keys))
        assert_within_se(f, se, s, None, unique=np.triu(np.ones((4, 4), bool)), what=f"{name} order {order}")


def test_collapsed_sampler_handles_repeated_points():
    arch = make_architecture("ReLUNet", width=20)
    x = np.array([[0.3], [0.3], [-0.5]])
    phi = np.asarray(arch.sample_fields(jax.random.split(jax.random.key(0), 64), x))
    assert np.all(np.isfinite(phi))
    np.testing.assert_allclose(phi[:, 0], phi[:, 1], rtol=1e-12, atol=1e-12)


def test_relu_kernel_is_arccos_closed_form():
    a = make_architecture("ReLUNet", sw=1.3, sb=0.4)
    x = np.array([[0.5], [-1.0]])
    k = np.asarray(a.nngp_kernel(x, x))
    kxx = 0.16 + 1.69 * 0.25
    kyy = 0.16 + 1.69 * 1.0
    kxy = 0.16 - 1.69 * 0.5
    t = np.arccos(kxy / np.sqrt(kxx * kyy))
    expect = 0.16 + 1.69 * np.sqrt(kxx * kyy) * (np.sin(t) + (np.pi - t) * np.cos(t)) / (2 * np.pi)
    np.testing.assert_allclose(k[0, 1], expect, rtol=1e-12)


def test_quadrature_dual_matches_closed_form():
    """The 160^2-node Gauss-Hermite dual reproduces the closed-form erf and relu duals."""
    x = np.array([[0.3], [-0.9], [1.4]])
    for act in ("erf", "relu"):
        closed = np.asarray(SingleLayer(activation=act).nngp_kernel(x, x))
        fn = jax.nn.relu if act == "relu" else jax.scipy.special.erf
        numeric = np.asarray(SingleLayer(activation=lambda z, f=fn: f(z)).nngp_kernel(x, x))
        np.testing.assert_allclose(numeric, closed, rtol=1e-3 if act == "relu" else 1e-10)  # kinked: slow quadrature


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(width=0), "width"),
        (dict(sw=0.0), "sw"),
        (dict(sb=-1.0), "sb"),
        (dict(sw=float("nan")), "sw"),
        (dict(d=0), "d"),
        (dict(width=2.5), "width"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs, match):
    with pytest.raises(NNFTError, match=match):
        make_architecture("ErfNet", **kwargs)


def test_unknown_architecture_and_activation():
    with pytest.raises(NNFTError, match="architecture"):
        make_architecture("NoSuchNet")
    with pytest.raises(NNFTError, match="activation"):
        make_architecture("SingleLayer", activation="nope")
    with pytest.raises(NNFTError, match="unknown parameter"):
        make_architecture("ErfNet", depth=3)


@pytest.mark.parametrize("name", ZOO)
def test_one_dimensional_points_and_wrong_d(name):
    """d = 1: a 1-D x works in prior, apply and nngp_kernel exactly as (P, 1); the wrong d is an
    NNFTError naming the argument (it used to return a (3, 3) kernel or raise an IndexError)."""
    arch = zoo_arch(name, d=1)
    x = np.array([-0.5, 0.1, 0.7])
    tr = handlers.trace(handlers.seed(arch.prior, jax.random.key(2))).get_trace(x)
    theta = {k: v["value"] for k, v in tr.items() if v["type"] == "sample"}
    np.testing.assert_array_equal(np.asarray(arch.apply(theta, x)), np.asarray(arch.apply(theta, x[:, None])))
    np.testing.assert_array_equal(np.asarray(tr["phi"]["value"]), np.asarray(arch.apply(theta, x[:, None])))
    np.testing.assert_array_equal(np.asarray(arch.nngp_kernel(x, x)), np.asarray(arch.nngp_kernel(x[:, None], x)))
    gram = np.asarray(NNGPKernel(arch).gram(x).as_matrix())  # GPJax's wrapper too (it read (P,) as one point)
    k = np.asarray(arch.nngp_kernel(x, x))
    np.testing.assert_allclose(gram, 0.5 * (k + k.T), rtol=1e-14, atol=1e-15)  # the Gram is symmetrised
    two = zoo_arch(name, d=2)
    theta2 = two.sample_theta(jax.random.key(0))
    for call, arg in (
        (lambda: two.nngp_kernel(x, np.zeros((2, 2))), "x1"),
        (lambda: two.nngp_kernel(np.zeros((2, 2)), x[:, None]), "x2"),
        (lambda: two.apply(theta2, x), "x"),
        (lambda: two.prior(x[:, None]), "x"),
        (lambda: two.apply(theta2, np.zeros((2, 2, 2))), "x"),
        (lambda: NNGPKernel(two).gram(x), "x"),
    ):
        with pytest.raises(NNFTError, match=arg):
            call()


@pytest.mark.parametrize("name", ZOO)
def test_kernel_gradients_finite_at_coincident_points(name):
    """d K / d scale is finite for every float scale at coincident points (the tanh quadrature
    kernel had NaN gradients there from sqrt(max(b - r^2, 0)))."""
    kwargs = {"activation": "tanh"} if name == "SingleLayer" else {}  # the quadrature dual (DeepMLP shares it)
    arch = zoo_arch(name, d=2, **kwargs)
    x = np.array([[0.3, -0.2], [0.3, -0.2], [-0.6, 0.4]])
    scales = list(scale_names(arch))  # the float-annotated fields (stored as float64 array leaves)
    assert scales, f"{name} has no float scales"
    s0 = {f: jnp.asarray(getattr(arch, f)) for f in scales}

    # every scale at once: one compiled gradient and one compiled kernel sum per entry (not two per scale)
    @jax.jit
    def total(s):
        moved = eqx.tree_at(lambda a: [getattr(a, f) for f in scales], arch, [s[f] for f in scales])
        return jnp.sum(moved.nngp_kernel(x, x))

    grads = jax.jit(jax.grad(total))(s0)
    for f in scales:
        g = float(grads[f])
        assert np.isfinite(g), f"{name}: d K / d {f} = {g}"
        eps = 1e-6 * float(getattr(arch, f))  # and it is the derivative (central difference in f alone)
        plus, minus = ({**s0, f: s0[f] + sign * eps} for sign in (1, -1))
        fd = (float(total(plus)) - float(total(minus))) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8, err_msg=f"{name} d/d{f}")
