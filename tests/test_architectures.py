"""Every zoo entry: its NumPyro prior, apply, fast sampler and NNGP kernel agree."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import ZOO, assert_within_se, zoo_arch
from numpyro import handlers

from nnft_ppl import NNFTError
from nnft_ppl.architectures import REGISTRY, IIDNeuronArchitecture, SingleLayer, make_architecture
from nnft_ppl.ensemble import ensemble_correlators


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
    """Monte Carlo G2 within 4 SE (Bonferroni over the distinct pairs) of nngp_kernel on random points."""
    seed = np.random.SeedSequence().entropy  # fresh points each run (recorded), fixed sampling key
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(5, d)) / np.sqrt(d)
    arch = zoo_arch(name, d=d)
    ds = ensemble_correlators(arch, x, 20_000, key=7, max_order=2, progress=False)
    k = np.asarray(arch.nngp_kernel(x, x))
    iu = np.triu_indices(5)
    assert_within_se(
        ds.G2.values[iu], ds.G2_se.values[iu], k[iu], ds.attrs["n_blocks"], what=f"{name} d={d} G2, points seed {seed}"
    )


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
