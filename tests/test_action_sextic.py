"""The sextic vertex by amputation (issue 15, item 1 "where resolvable"): G6c minus the tree of two quartic
vertices, amputated on six legs on a grid. Exact input only (cheap); the Monte Carlo resolution is in
benchmarks/action_sextic.py (CosNet N = 4, 100k networks: every entry resolved, within 4 SE of exact)."""

from __future__ import annotations

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import action as A
from nnft_ppl._tensors import expand, sorted_tuple_array
from nnft_ppl.ensemble import Estimate

X = np.array([-2.4, -0.8, 0.8, 2.4])  # spacing 1.6: cond(K) = 2.6 (six amputated legs amplify rounding by cond^6)
W = np.full(4, 1.6)


@pytest.fixture(scope="module")
def cosnet():
    arch = nn.CosNet(width=4)
    return arch, A.exact_correlators(arch, X, orders=(4, 6), full=False), np.asarray(arch.nngp_kernel(X, X))


def test_tree_is_the_feynman_rule_tree_for_a_local_vertex(cosnet):
    """With G4c = -lam sum_q W_q K K K K over the grid (a local vertex on the grid's nodes), the tree
    sum G4c K^-1 G4c equals lam^2 times the Feynman-rule tree of `close_loop` (`tree_six`), 1e-10."""
    _, _, k = cosnet
    lam = -0.7
    g4 = -lam * np.einsum("q,aq,bq,cq,dq->abcd", W, k, k, k, k)
    t6 = sorted_tuple_array(4, 6)
    tree = A.tree_from_g4c(g4, np.linalg.inv(k))[tuple(t6.T)]
    np.testing.assert_allclose(tree, lam**2 * A.tree_six(k, k, W, t6), rtol=1e-10, atol=0)


def test_planted_sextic_vertex_is_recovered(cosnet):
    """CosNet's exact G4c plus a planted symmetric V6 (scale 1e6):
    G6c = -(K W)^{(x)6} V6 + tree; `amputate6` returns V6 to 1e-8 of its scale (and zero SE to that precision)."""
    arch, ex, k = cosnet
    v6 = 1e6 * expand(np.random.default_rng(0).normal(size=84), 4, 6)
    b = k * W[None, :]
    g6 = -np.einsum("ag,bh,ci,dj,ek,fl,ghijkl->abcdef", b, b, b, b, b, b, v6)
    g6 = g6 + A.tree_from_g4c(expand(ex.connected[4].value, 4, 4), np.linalg.inv(k))
    vals = g6[tuple(sorted_tuple_array(4, 6).T)]
    planted = ex._replace(connected={**ex.connected, 6: Estimate(vals, np.broadcast_to(vals, (8, 84)).copy())})
    out = A.amputate6(planted, arch, W)
    assert np.max(np.abs(out.value - v6)) < 1e-8 * np.max(np.abs(v6))
    assert out.rank == 4 and np.max(out.se) < 1e-8 * np.max(np.abs(v6))
    with pytest.raises(nn.NNFTError, match="weights"):
        A.amputate6(ex, arch, np.ones(3))
