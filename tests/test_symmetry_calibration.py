"""False-positive rates: 200 symmetric ensembles of 100 networks, vectorised draws."""

import jax
import numpy as np
from scipy import stats as st

import nnft_ppl as nf
from nnft_ppl import symmetry as S

N_ENS, N, ALPHA = 200, 100, 0.1
BINOM = 3 * np.sqrt(ALPHA * (1 - ALPHA) / N_ENS)  # 3 binomial standard errors


def _rates(results):
    fam = np.mean([not r.passed for r in results])
    # per-entry (uncorrected) level of one fixed entry: checks the standard errors are honest
    entry = np.mean([r.p_holm.size and 2 * st.t.sf(abs(r.z[0]), N - 1) < ALPHA for r in results])
    return fam, entry


def test_z2_false_positive_rate():
    x = np.array([[0.2], [0.9]])
    phi = np.asarray(jax.jit(nf.CosNet(width=30).sample_fields)(jax.random.split(jax.random.PRNGKey(20), N_ENS * N), x))
    res = [S.z2_test(phi[i * N : (i + 1) * N], x=x, orders=(1,), alpha=ALPHA) for i in range(N_ENS)]
    fam, entry = _rates(res)
    assert fam <= ALPHA + BINOM  # Holm controls the family-wise rate (conservative for correlated entries)
    assert abs(entry - ALPHA) <= BINOM  # the per-entry level is nominal within binomial error
    assert fam >= ALPHA / 3  # and it is not vacuous


def test_translation_false_positive_rate():
    x = np.array([[0.2], [0.9]])
    xg = x[None] + np.array([[[0.7]]])
    allx = np.concatenate([x, xg[0]])
    phi = np.asarray(
        jax.jit(nf.CosNet(width=30).sample_fields)(jax.random.split(jax.random.PRNGKey(21), N_ENS * N), allx)
    )
    res = []
    for i in range(N_ENS):
        b = phi[i * N : (i + 1) * N]
        f = S.Fields(b[None, :, :2, None], x, "iid", b[None, :, None, 2:, None], xg)
        res.append(S.invariance_test(f, orders=(2,), alpha=ALPHA))
    fam, entry = _rates(res)
    assert fam <= ALPHA + BINOM
    assert abs(entry - ALPHA) <= BINOM
