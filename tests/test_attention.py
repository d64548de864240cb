"""AttentionNet: Monte Carlo G2 against the infinite-head kernel at many heads, the quadrature's
precision, the approach to Hron et al.'s Gaussian-logit kernel, the forward pass against a loop
implementation, permutation invariance, GPJax, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_within_se

from nnft_ppl import NNFTError
from nnft_ppl.architectures import AttentionNet
from nnft_ppl.architectures.attention import logit_rule
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.gp import NNGPKernel

IU = np.triu_indices(3)
#: G2 equals the kernel at any number of heads (i.i.d. heads); 64 heads: the field is already nearly
#: Gaussian, and benchmarks/conv_attention.py runs 1 ... 256 heads with 100 000 networks
LARGE = {
    "scalar-tokens-T4-keydim2": dict(width=64, d=4, key_dim=2, sqk=1.5, sb=0.5),
    "T2-e2": dict(width=64, d=4, tokens=2),
}


@pytest.mark.parametrize("case", sorted(LARGE))
def test_monte_carlo_g2_matches_kernel_at_many_heads(case):
    """G2 of 20 000 networks (fixed key) within 4 SE, Bonferroni over the 6 distinct pairs."""
    arch = AttentionNet(**LARGE[case])
    x = np.random.default_rng(8).normal(size=(3, arch.d))
    ds = ensemble_correlators(arch, x, 20_000, key=9, max_order=2, progress=False)
    assert float(np.max(ds.G2_khat.values)) < 0.5
    ref = np.asarray(arch.nngp_kernel(x, x))
    assert_within_se(ds.G2.values[IU], ds.G2_se.values[IU], ref[IU], ds.attrs["n_blocks"], what=case)


@pytest.mark.parametrize("key_dim", [1, 3])
def test_logit_rule_reproduces_the_variance_gamma_moments(key_dim):
    """M = sum of key_dim products of standard normals / sqrt(key_dim): E 1 = 1, E M^2 = 1,
    E M^4 = 3 + 6 / key_dim, to 1e-12 (the rule's step and range resolve the density)."""
    m, w = logit_rule(1, key_dim)
    m = m[:, 0, 0]
    for power, exact in ((0, 1.0), (2, 1.0), (4, 3.0 + 6.0 / key_dim)):
        assert abs(np.sum(w * m**power) - exact) < 1e-12 * exact


def test_kernel_quadrature_converged():
    """Halving the trapezoid step changes the kernel by < 1e-11 at logit scale sqk^2 = 4."""
    arch = AttentionNet(width=3, d=4, sqk=2.0, key_dim=2)
    x = np.random.default_rng(1).normal(size=(3, 4))
    fine = arch._kernel_by_rule(x, x, *logit_rule(1, 2, 0.025))
    np.testing.assert_allclose(np.asarray(arch.nngp_kernel(x, x)), np.asarray(fine), rtol=0, atol=1e-11)


def test_approaches_gaussian_logit_kernel_as_one_over_key_dim():
    """Hron et al.'s kernel is the key_dim -> infinity limit: the gap halves as key_dim doubles."""
    x = np.random.default_rng(2).normal(size=(3, 3))
    limit = np.asarray(AttentionNet(d=3).gaussian_logit_kernel(x, x))
    gaps = [np.abs(np.asarray(AttentionNet(d=3, key_dim=k).nngp_kernel(x, x)) - limit).max() for k in (4, 8, 16)]
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    assert np.all(np.abs(ratios - 2.0) < 0.1), ratios


def test_forward_matches_loop_implementation_and_is_permutation_invariant():
    arch = AttentionNet(width=2, d=6, tokens=3, sqk=1.3, sb=0.2)
    rng = np.random.default_rng(3)
    shapes = {"Wq": (2, 1, 2), "Wk": (2, 1, 2), "Wv": (2, 2), "W_out": (2,), "b_out": ()}
    theta = {k: rng.normal(size=s) for k, s in shapes.items()}  # any parameters: apply is what is tested
    x = rng.normal(size=(2, 6))
    expect = []
    for xp in x.reshape(2, 3, 2):
        total = theta["b_out"]
        for h in range(2):
            q, k = xp @ theta["Wq"][h].T, xp @ theta["Wk"][h].T  # (T, key_dim)
            logits = q @ k.T / np.sqrt(arch.key_dim)
            att = np.exp(logits - logits.max(1, keepdims=True))
            att /= att.sum(1, keepdims=True)
            total = total + theta["W_out"][h] * np.mean(att @ (xp @ theta["Wv"][h]))
        expect.append(total)
    np.testing.assert_allclose(np.asarray(arch.apply(theta, x)), expect, rtol=1e-12)
    perm = x.reshape(2, 3, 2)[:, [2, 0, 1]].reshape(2, 6)
    np.testing.assert_allclose(np.asarray(arch.apply(theta, perm)), expect, rtol=1e-12)


def test_gpjax_kernel_with_vector_tokens():
    arch = AttentionNet(width=3, d=4, tokens=2)
    x = np.random.default_rng(4).normal(size=(4, 4))
    k = np.asarray(arch.nngp_kernel(x, x))
    assert np.linalg.eigvalsh(k).min() > 0
    np.testing.assert_allclose(np.asarray(NNGPKernel(arch).gram(x).as_matrix()), 0.5 * (k + k.T), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d=6, tokens=4), "tokens"),
        (dict(d=6, tokens=0), "tokens"),
        (dict(d=6, tokens=2), "key_dim"),  # e = 3: the quadrature would be 6-dimensional
        (dict(d=3, key_dim=17), "key_dim"),
        (dict(d=3, key_dim=0), "key_dim"),
        (dict(d=3, sqk=0.0), "sqk"),
        (dict(d=3, width=0), "width"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs, match):
    with pytest.raises(NNFTError, match=match):
        AttentionNet(**kwargs)


def test_sequence_of_the_wrong_length():
    arch = AttentionNet(width=3, d=4, tokens=2)
    with pytest.raises(NNFTError, match="x2"):
        arch.nngp_kernel(np.zeros((2, 4)), np.zeros((2, 6)))
    with pytest.raises(NNFTError, match="tokens"):
        AttentionNet(width=3, d=4, tokens=2).gaussian_logit_kernel(np.zeros((1, 4)), np.zeros((1, 4)))
