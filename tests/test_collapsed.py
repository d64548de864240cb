"""The readout-integrated (Rao-Blackwellised) network-level estimator, `ensemble_correlators(...,
collapse=True)`: given the hidden layer phi is a zero-mean Gaussian, so each network contributes the
hafnians of its conditional covariance instead of monomials of one sampled readout. Checked here: the
hafnian recursion, a deep network against its all-orders closed form, the lighter tails, bad input.
The zoo-wide check against the exact cumulants is in tests/test_estimators.py (neuron vs network), the
sixth order in tests/test_action_paper.py."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_within_se

import nnft_ppl as nn
from nnft_ppl import NNFTError
from nnft_ppl._combinatorics import pair_partitions
from nnft_ppl.ensemble import MonomialBasis, ensemble_correlators


def test_hafnians_are_the_wick_sums_over_pairings():
    """Every basis level of `MonomialBasis.hafnians` equals the sum over pair partitions (zero at odd
    orders), for random covariances, over full tensors and over a tuple subset's closure."""
    rng = np.random.default_rng(5)
    a = rng.normal(size=(4, 3, 5))
    sigma = a @ np.swapaxes(a, 1, 2) / 5  # (M, P, P) positive definite
    for basis in (MonomialBasis.full(3, 6), MonomialBasis.from_tuples(3, [(0, 0, 1, 2, 2, 2)])):
        for k, (lev, val) in enumerate(zip(basis.levels, basis.hafnians(sigma), strict=True), start=1):
            val = np.asarray(val)
            for j, t in enumerate(lev):
                ref = sum(np.prod([sigma[:, t[i], t[m]] for i, m in part], axis=0) for part in pair_partitions(k))
                np.testing.assert_allclose(val[:, j], ref if k % 2 == 0 else 0.0, rtol=1e-13, atol=1e-13)


def test_deep_relu_at_criticality_matches_its_all_orders_g4c():
    """DeepMLP (depth 2, critical ReLU, width 6) at one point: G4c = 3 K^2 ((1 + 5/N)^L - 1) to all
    orders in 1/N (tests/test_deep_finite_width.py), within 4 SE; G2 = K within 4 SE (Bonferroni 2)."""
    x = np.array([[0.7, 0.0]])
    arch = nn.DeepMLP(depth=2, width=6, activation="relu", sw=np.sqrt(2.0), sb=0.0, d=2)
    ds = ensemble_correlators(arch, x, 40_000, key=4, max_order=4, progress=False, collapse=True)
    k = 2 * 0.49 / 2  # sw^2 |x|^2 / d, preserved layer to layer at criticality
    exact = {"G2": k, "G4c": 3 * k**2 * ((1 + 5 / 6) ** 2 - 1)}
    assert_within_se(
        [float(ds[v].values.ravel()[0]) for v in exact],
        [float(ds[f"{v}_se"].values.ravel()[0]) for v in exact],
        list(exact.values()),
        64,
        what="DeepMLP readout-integrated",
    )
    assert ds.attrs["estimator"] == "network (readout integrated)"


def test_lighter_tails_than_the_sampled_readout():
    """ErfNet width 3: the sixth-order summands' k-hat falls below 0.5 (the error bar is trusted) where
    the sampled readout's exceeds it, on the same hidden layers."""
    x = np.array([-0.7, 0.1, 0.9])
    arch = nn.ErfNet(width=3, sw=1.2, sb=0.4)
    kw = dict(key=3, max_order=6, progress=False)
    plain, col = (ensemble_correlators(arch, x, 20_000, collapse=c, **kw) for c in (False, True))
    assert float(col.G6c_khat) < 0.5 < float(plain.G6c_khat), (float(col.G6c_khat), float(plain.G6c_khat))
    assert np.all(col.G1.values == 0) and np.all(col.G5.values == 0)  # odd moments vanish exactly


def test_collapse_needs_a_gaussian_readout_and_the_jax_engine():
    x = np.array([0.1, 0.5])
    with pytest.raises(NNFTError, match="collapse: SharedScaleNet has no Gaussian linear readout"):
        ensemble_correlators(nn.SharedScaleNet(width=3), x, 4000, collapse=True, progress=False)
    with pytest.raises(NNFTError, match="collapse: needs engine='jax'"):
        ensemble_correlators(nn.ErfNet(width=3), x, 4000, collapse=True, engine="fused", progress=False)
