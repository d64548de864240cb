"""deform's NumPyro-style names (issue 11) and honest names (issue 10): `rng_key` (an int or a
key) with `key=` deprecated for one release, `MCMCEstimate`/`mcmc_moments` with the former
`Estimate`/`moments` deprecated. (The deform recipes' merged results.nc is checked against ArviZ's
conventions in tests/test_deform_sampling.py, on the free run it already samples.)"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import nnft_ppl
from nnft_ppl import NNFTError
from nnft_ppl import deform as D

X = np.linspace(-0.5, 0.5, 2)


@pytest.fixture(scope="module")
def model():
    return D.deform(nnft_ppl.CosNet(width=2), D.Phi4(0.1), D.make_quadrature((-1.0, 1.0), n=4))


def test_reweight_prior_rng_key_int_key_and_deprecated_key(model):
    a = D.reweight_prior(model, X, rng_key=3, num_draws=64)
    with pytest.warns(DeprecationWarning, match="rng_key") as rec:
        c = D.reweight_prior(model, X, key=3, num_draws=64)
    assert rec[0].filename == __file__  # the warning points at this call, not at library internals
    np.testing.assert_array_equal(a.phi, c.phi)
    with pytest.raises(NNFTError, match="rng_key only"):
        D.reweight_prior(model, X, 3, key=3, num_draws=64)
    with pytest.raises(NNFTError, match="rng_key"):
        D.reweight_prior(model, X, num_draws=64)
    with pytest.raises(TypeError, match="unexpected"):
        D.reweight_prior(model, X, 3, num_draw=64)


def test_reweighting_scan_and_samplers_take_rng_key(model, monkeypatch):
    with pytest.warns(DeprecationWarning) as rec:
        old = D.reweighting_scan(model, X, key=1, potentials=[D.Phi4(0.1)], num_draws=64)
    assert rec[0].filename == __file__ and len(old) == 1
    with pytest.raises(NNFTError, match="potentials"):
        D.reweighting_scan(model, X, rng_key=1, num_draws=64)

    import nnft_ppl.deform._sample as S

    seen = []

    def stub(keys, *args, **kw):  # the sampler itself is not run: the key must reach it
        seen.append(np.asarray(jax.random.key_data(keys)))
        raise _Reached

    monkeypatch.setattr(S, "initialize_model", stub)
    for call in (
        lambda: D.sample_deformed(model, X, rng_key=5, num_warmup=4, num_samples=4, num_chains=2),
        lambda: D.sample_scan(model, X, 5, [D.Phi4(0.1)], num_warmup=4, num_samples=4, num_chains=2),
    ):
        with pytest.raises(_Reached):
            call()
    with pytest.warns(DeprecationWarning) as rec, pytest.raises(_Reached):
        D.sample_deformed(model, X, key=5, num_warmup=4, num_samples=4, num_chains=2)
    assert rec[0].filename == __file__
    assert all(np.array_equal(seen[0], s) for s in seen[1:]) and len(seen) == 3


class _Reached(Exception):
    pass


def test_mcmc_estimate_names_and_deprecated_aliases():
    phi = np.random.default_rng(0).normal(size=(2, 50, 3))
    est = D.mcmc_moments(phi, 2)
    assert isinstance(est, D.MCMCEstimate) and est.value.shape == (3, 3)
    with pytest.warns(DeprecationWarning, match="mcmc_moments") as rec:
        old = D.moments
    assert rec[0].filename == __file__
    np.testing.assert_array_equal(old(phi, 2).value, est.value)
    with pytest.warns(DeprecationWarning, match="MCMCEstimate"):
        assert D.Estimate is D.MCMCEstimate
    from nnft_ppl.ensemble import Estimate

    assert D.MCMCEstimate is not Estimate
    assert "Estimate" not in D.__all__ and "moments" not in D.__all__
