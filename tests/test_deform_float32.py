"""float32 NUTS on vectorized chains (jax x64 stays on globally; the sampler runs its own state in 32
bits with matmul precision "highest"): float32 draws, the convergence gate, and G2 against the exact
kernel in standard errors (Bonferroni over the distinct entries)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft_ppl as nf
from nnft_ppl import NNFTError
from nnft_ppl import deform as D
from nnft_ppl.stats import se_threshold

X = np.array([[-0.5], [0.0], [0.5]])


def test_float32_nuts_vectorized_reproduces_kernel():
    """lam = 0, so G2 is the NNGP kernel exactly. Width 32 (near-Gaussian draws, small G2 errors)."""
    assert jax.config.jax_enable_x64  # float64 stays the global default around a float32 run
    arch = nf.CosNet(width=32, d=1, sw=1.0, sa=1.0)
    model = D.deform(arch, D.Phi4(0.0), D.make_quadrature((-1.0, 1.0), 6))
    run = D.sample_deformed(
        model,
        X,
        jax.random.PRNGKey(0),
        num_warmup=300,
        num_samples=500,
        num_chains=8,
        chain_method="vectorized",
        dtype=jnp.float32,
    )
    assert run.meta["dtype"] == "float32" and run.meta["chain_method"] == "vectorized"
    assert all(v.dtype == np.float32 for v in run.samples.values()), {k: v.dtype for k, v in run.samples.items()}
    assert run.samples["phi"].shape == (8, 500, 3)
    assert jnp.zeros(1).dtype == jnp.float64  # the run left x64 on
    diag = D.diagnose(D.to_datatree(run))
    assert diag.rhat_max <= 1.01 and diag.divergences == 0, diag
    g2 = D.mcmc_moments(run.samples["phi"], 2)
    k = np.asarray(arch.nngp_kernel(X, X))
    idx = D.unique_entries(X.shape[0], 2)
    z = np.abs((g2.value - k) / g2.se)[idx]
    thr = se_threshold(z.size, 3.0)
    assert z.max() < thr, (z, thr)
    # the check has power: a 20% error in the variance (e.g. a readout scale off by 10%) is > thr SE
    assert np.all(0.2 * np.diagonal(k) > thr * np.diagonal(g2.se)), (g2.se, thr)


def test_bad_dtype():
    m = D.deform(nf.CosNet(width=4), D.Phi4(1.0), D.make_quadrature((-1, 1), 3))
    for bad in (jnp.int32, jnp.float16, "abc"):
        with pytest.raises(NNFTError, match="dtype"):
            D.sample_deformed(m, X, jax.random.PRNGKey(0), dtype=bad)
