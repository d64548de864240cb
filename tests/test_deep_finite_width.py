"""DeepMLP at finite width: the leading 1/N connected four-point function (four-point vertex
recursion, Roberts-Yaida-Hanin ch. 4) against closed forms and against Monte Carlo at depths 1..4.

The width is chosen so the neglected O(L^2/N^2) terms sit below the errors: for the critical
ReLU network (sw^2 = 2, sb = 0) at one point the four-point function is known to all orders,
G4c = 3 K^2 ((1 + 5/N)^L - 1) (the layer-to-layer norm ratios are i.i.d. with second moment
1 + 5/N), whose leading term 15 L K^2 / N the recursion must reproduce; the test checks that the
higher orders at the chosen N are under half a standard error. The full depth-and-width study
with the fitted exponents is `benchmarks/deep_finite_width.py`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import se_threshold

import nnft_ppl as nn
from nnft_ppl.architectures._four_point import relu_product_moment
from nnft_ppl.architectures.deep_mlp import _gaussian_rows
from nnft_ppl.ensemble import MonomialBasis, cumulants, stream_moment_sums
from nnft_ppl.theory import exact_connected, leading_connected

WIDTH = 200
N_NETS = 30_000
RELU = {"activation": "relu", "sw": np.sqrt(2.0), "sb": 0.0, "d": 2}
X2 = np.array([[0.7, 0.0], [0.4, 0.5]])  # two points: the vertex's off-diagonal Jacobian terms enter
UNIQUE = [(0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 1, 1, 1), (1, 1, 1, 1)]


def test_relu_moments_and_critical_vertex_closed_forms():
    """Angular quadrature = the arc-cosine closed forms; the recursion at criticality = 15 L K^2 / N."""
    a, c, b = 1.3, 0.4, 0.9
    t = np.arccos(c / np.sqrt(a * b))
    cov = np.array([[a, c], [c, b]])
    order2 = a * b / (2 * np.pi) * (3 * np.sin(t) * np.cos(t) + (np.pi - t) * (1 + 2 * np.cos(t) ** 2))
    assert abs(relu_product_moment(cov, (0, 0, 1, 1)) - order2) < 1e-13
    assert abs(relu_product_moment(cov, (0, 0, 0, 0)) - 1.5 * a * a) < 1e-13
    x = np.array([[0.7, 0.0]])
    k = 2 * 0.49 / 2  # sw^2 |x|^2 / d
    for depth in (1, 4):
        g = leading_connected(nn.DeepMLP(depth=depth, width=WIDTH, **RELU), x)
        assert abs(g[0, 0, 0, 0] - 15 * depth * k**2 / WIDTH) < 1e-13


def test_depth_one_is_the_exact_single_layer():
    """At one hidden layer the recursion is exact: the i.i.d.-neuron cumulant (erf, quadrature)."""
    x = np.array([0.3, -0.8])
    g, err = leading_connected(nn.DeepMLP(depth=1, activation="erf", width=7, sw=1.3, sb=0.4), x, return_error=True)
    ref, ref_err = exact_connected(nn.ErfNet(width=7, sw=1.3, sb=0.4), x, 4, return_error=True)
    assert np.max(np.abs(g - ref) - err - ref_err) < 1e-12


def test_leading_order_is_not_exact_and_bad_input():
    deep = nn.DeepMLP(depth=2, width=4)
    with pytest.raises(nn.NNFTError, match="exact"):
        exact_connected(deep, np.array([0.1, 0.2]), 4)
    with pytest.raises(nn.NNFTError, match="arch"):
        leading_connected(nn.ErfNet(width=4), np.array([0.1]))
    with pytest.raises(nn.NNFTError, match="width"):
        leading_connected(deep, np.array([0.1]), width=0)
    with pytest.raises(nn.NNFTError, match="x"):
        leading_connected(deep, np.zeros((2, 3)))
    assert not isinstance(deep, nn.ExactCumulants)


DEPTHS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def relu_ensembles():
    """All four depths from one network chain and ONE compiled sampler (instead of four ensembles and
    four compiles): per draw, the hidden layers 1..4 of one critical ReLU net (layer 1 by DeepMLP's own
    collapsed `sample_hidden_features`, then z^(l+1) ~ N(0, K^(z^l)) row by row as in DeepMLP), and for
    each L a readout drawn from layer L's empirical kernel with its own key. Each readout has exactly
    DeepMLP(depth=L)'s law (the same Markov chain up to layer L, then the same Gaussian readout); the
    depths are dependent, which Bonferroni does not need. Besides the 8 fields (depth, point) the
    sampler emits each depth's phi(x1) + phi(x2), so the k-hat (max over all |series|^4 tails) covers
    every per-depth series ensemble_correlators would use, plus the total."""
    archs = {depth: nn.DeepMLP(depth=depth, width=WIDTH, **RELU) for depth in DEPTHS}
    one_layer, deep = archs[1], archs[max(DEPTHS)]
    xj = jnp.asarray(X2)

    def one(k):
        ks = jax.random.split(k, 2 * len(DEPTHS))
        phis = []
        for i in range(len(DEPTHS)):
            if i == 0:
                h = one_layer.sample_hidden_features(ks[0], xj)
            else:
                z = _gaussian_rows(ks[i], deep.empirical_kernel(h), WIDTH, jnp.float64)
                h = deep.act.fn(z)
            phis.append(_gaussian_rows(ks[len(DEPTHS) + i], deep.empirical_kernel(h), 1, jnp.float64)[0])
        phi = jnp.stack(phis)  # (depth, P)
        return jnp.concatenate([phi.ravel(), phi.sum(1)])

    p = len(X2)
    n_fields = len(DEPTHS) * p + len(DEPTHS)
    tuples = {depth: [tuple(i * p + j for j in t) for t in UNIQUE] for i, depth in enumerate(DEPTHS)}
    basis = MonomialBasis.from_tuples(n_fields, [t for ts in tuples.values() for t in ts])
    ms = stream_moment_sums(jax.vmap(one), N_NETS, 1, basis, chunk=1024, progress=False)
    out = {}
    for depth in DEPTHS:
        est = cumulants(ms, tuples[depth])
        out[depth] = (archs[depth], dict(zip(UNIQUE, est.value, strict=True)), dict(zip(UNIQUE, est.se, strict=True)))
    return out, float(ms.khat[4])


def test_relu_g4c_at_depths_1_to_4_within_se(relu_ensembles):
    """Measured G4c at L = 1..4 (5 distinct entries each) within 4 SE, Bonferroni over all 20,
    of the leading-order recursion; higher orders below half an SE; L = 4 resolved from zero."""
    ensembles, khat = relu_ensembles
    assert khat < 0.5, khat
    zs, thr = [], se_threshold(4 * len(UNIQUE), 4.0, 63)
    for depth, (arch, est, se) in ensembles.items():
        g, err = leading_connected(arch, X2, return_error=True)
        k = float(arch.nngp_kernel(X2[:1], X2[:1])[0, 0])
        higher = 3 * k**2 * ((1 + 5 / WIDTH) ** depth - 1 - 5 * depth / WIDTH)  # exact minus leading at x_1
        assert higher < 0.5 * se[0, 0, 0, 0], (depth, higher, se[0, 0, 0, 0])
        for t in UNIQUE:
            zs.append(abs(est[t] - g[t]) / np.hypot(se[t], err[t]))
            assert zs[-1] < thr, (depth, t, est[t], g[t], se[t])
    _, est4, se4 = ensembles[4]
    assert est4[0, 0, 0, 0] / se4[0, 0, 0, 0] > 4
    print(f"max |z| {max(zs):.2f} (threshold {thr:.2f}); L = 4: G4c(x1^4)/SE {est4[0, 0, 0, 0] / se4[0, 0, 0, 0]:.2f}")
