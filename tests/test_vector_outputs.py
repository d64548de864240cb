"""D > 1 outputs (`VectorOutput`): the output-index structure of G2 (delta_ab K) and of the
connected four-point function (delta_ab delta_cd V_(12)(34) + ...) / N against Monte Carlo."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from helpers import assert_within_se
from numpyro import handlers

import nnft_ppl as nn
from nnft_ppl.ensemble import MonomialBasis, cumulants, sorted_tuples, stream_moment_sums
from nnft_ppl.theory import exact_connected

X = np.array([0.4, -0.9])
D = 2


def vector_cumulants(vo: nn.VectorOutput, x, n: int, key: int):
    """Unbiased G2 and G4c with jackknife SEs over the composite index (point, output), flattened
    as i * D + a, and the largest Pareto k-hat of the fourth-order summands."""
    p = len(x)
    xj = jax.numpy.asarray(np.asarray(x, np.float64).reshape(p, -1))
    basis = MonomialBasis.full(p * vo.n_out, 4)
    ms = stream_moment_sums(
        lambda keys: vo.sample_fields(keys, xj).reshape(keys.shape[0], -1), n, key, basis, progress=False, chunk=8192
    )
    out = {}
    for r in (2, 4):
        tuples = sorted_tuples(p * vo.n_out, r)
        est = cumulants(ms, tuples)
        out[r] = (tuples, est.value, est.se)
    return out, ms.khat[4]


def _at(tensor: np.ndarray, tuples, p: int, d: int) -> np.ndarray:
    """Entries of a (P, D) * r tensor at composite tuples (i * D + a, ...)."""
    full = tensor.reshape((p * d,) * (tensor.ndim // 2))
    return np.array([full[t] for t in tuples])


@pytest.fixture(scope="module")
def erf_vector():
    vo = nn.VectorOutput(nn.ErfNet(width=4, sw=1.5, sb=0.5), D)
    return vo, *vector_cumulants(vo, X, 60_000, key=3)


def test_vector_g2_and_g4c_index_structure(erf_vector):
    """i.i.d. neurons at width 4: G4c is exact at any width, so the comparison is exact; the
    d_ab d_cd entries (a != c) are significantly non-zero and the odd ones (a, a, a, b) vanish."""
    vo, est, khat = erf_vector
    assert khat < 0.5, khat
    p = len(X)
    g4, g4err, exact = vo.connected4(X)
    assert exact
    refs = {2: (vo.two_point(X), 0.0), 4: (g4, g4err)}
    z_cross = []
    for r in (2, 4):
        tuples, val, se = est[r]
        ref, err = refs[r]
        ref_t = _at(ref, tuples, p, D)
        se_tot = np.sqrt(se**2 + _at(np.broadcast_to(err, ref.shape), tuples, p, D) ** 2)
        assert_within_se(val, se_tot, ref_t, what=f"G{r} of {vo.name}")
        if r == 4:  # power: outputs a != c paired (a, a, c, c) at the same point
            for t, v, s in zip(tuples, val, se, strict=True):
                outs = sorted(i % D for i in t)
                if outs == [0, 0, 1, 1] and len({i // D for i in t}) == 1:
                    z_cross.append(v / s)
    assert max(z_cross) > 4, z_cross


def test_vector_output_scalar_limit_and_structure():
    """D = 1 reproduces the scalar exact G4c; entries with an odd count of some output vanish
    and V enters G4c_aacc (a != c) alone."""
    arch = nn.ErfNet(width=4, sw=1.5, sb=0.5)
    g1, _, _ = nn.VectorOutput(arch, 1).connected4(X)
    np.testing.assert_allclose(g1.reshape((2,) * 4), exact_connected(arch, X, 4), rtol=1e-12, atol=1e-15)
    g, _, _ = nn.VectorOutput(arch, 3).connected4(X)
    v, _, _ = arch.output_vertex4(arch.check_points(X))
    assert np.all(g[:, 0, :, 0, :, 0, :, 1] == 0)
    np.testing.assert_allclose(g[:, 0, :, 0, :, 2, :, 2], v / arch.width, rtol=1e-12)


def test_vector_prior_apply_and_bad_input():
    vo = nn.VectorOutput(nn.ErfNet(width=5), 3)
    tr = handlers.trace(handlers.seed(vo.prior, 0)).get_trace(X)
    theta = {k: s["value"] for k, s in tr.items() if s["type"] == "sample"}
    np.testing.assert_allclose(tr["phi"]["value"], vo.apply(theta, X), rtol=1e-12)
    assert tr["phi"]["value"].shape == (2, 3)
    with pytest.raises(nn.NNFTError, match="arch"):
        nn.VectorOutput(nn.LinearFeatures(width=3), 2)
    with pytest.raises(nn.NNFTError, match="n_out"):
        nn.VectorOutput(nn.ErfNet(width=3), 0)
    with pytest.raises(nn.NNFTError, match="readout_mean"):
        nn.VectorOutput(nn.ErfNet(width=3), 2, readout_mean=0.1).connected4(X)
