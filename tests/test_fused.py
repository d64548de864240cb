"""Issue 16 (fused sampler): the Pallas kernel (interpret mode here) draws the same distribution as
today's sampler (moments within 4 SE, Bonferroni), deterministically for a key, and its generator is
Threefry-2x32 itself (bit for bit against JAX's). The kernel also lowers to Triton for an H200 here
(cross-lowered, no GPU needed), for every named activation and the tile shapes benchmarks/gpu.py runs."""

from __future__ import annotations

import jax
import jax.extend.random as jr
import jax.numpy as jnp
import numpy as np
import pytest
from jax import export
from jax.sharding import AbstractDevice, AbstractMesh, use_abstract_mesh
from scipy.special import erf

import nnft_ppl as nn
from nnft_ppl import NNFTError
from nnft_ppl.architectures._activations import ACTIVATIONS
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.ensemble._fused import GPU_TILES, fused_sampler, kernel_erf, threefry2x32
from nnft_ppl.stats import se_threshold

X = np.array([[-1.0], [0.2], [1.0]])
ARCH = nn.ErfNet(width=5)
KW = dict(max_order=4, n_blocks=16, progress=False, chunk=256)
N = 16384


@pytest.fixture(scope="module")
def runs():
    fused = ensemble_correlators(ARCH, X, N, key=7, engine="fused", **KW)
    plain = ensemble_correlators(ARCH, X, N, key=8, **KW)
    return fused, plain


def test_threefry_matches_jax_bit_for_bit():
    key = jnp.array([0x13198A2E, 0x03707344], jnp.uint32)
    count = jnp.arange(64, dtype=jnp.uint32)
    a, b = threefry2x32(key[0], key[1], count[:32], count[32:])
    np.testing.assert_array_equal(np.concatenate([a, b]), np.asarray(jr.threefry_2x32(key, count)))


def test_fused_moments_equal_todays_path(runs):
    """G2, G3 and G4 (raw) and G4c over the distinct entries, two independent ensembles."""
    fused, plain = runs
    zs = []
    for v in ("G2", "G3", "G4", "G4c"):
        a, b = fused[v].values.ravel(), plain[v].values.ravel()
        se = np.hypot(fused[f"{v}_se"].values.ravel(), plain[f"{v}_se"].values.ravel())
        _, first = np.unique(np.round(a, 14), return_index=True)  # symmetric tensors: distinct entries
        zs.append(np.abs(a - b)[first] / se[first])
    z = np.concatenate(zs)
    assert np.max(z) < se_threshold(z.size, dof=KW["n_blocks"] - 1), np.max(z)
    # and against the exact kernel: G2 = K
    k = np.asarray(ARCH.kernel(X, X))
    z2 = np.abs(fused.G2.values - k) / fused.G2_se.values
    assert np.max(z2) < se_threshold(6, dof=KW["n_blocks"] - 1)
    assert fused.attrs.get("engine", "fused") == "fused"


def test_fused_is_deterministic_for_a_key(runs):
    again = ensemble_correlators(ARCH, X, N, key=7, engine="fused", **KW)
    np.testing.assert_array_equal(again.G4.values, runs[0].G4.values)
    other_chunk = ensemble_correlators(ARCH, X, N, key=7, engine="fused", **{**KW, "chunk": 128})
    np.testing.assert_allclose(other_chunk.G4.values, runs[0].G4.values, rtol=1e-12)  # same draws


def test_fused_refuses_other_architectures():
    with pytest.raises(NNFTError, match="engine: the fused sampler"):
        ensemble_correlators(nn.GaussNet(width=3), X, 2000, key=1, engine="fused", max_order=2, progress=False)
    with pytest.raises(NNFTError, match="engine: must be"):
        ensemble_correlators(ARCH, X, 2000, key=1, engine="cuda", max_order=2, progress=False)
    assert jax.default_backend() == "cpu"  # the tests run the interpreter


def test_kernel_erf_within_its_stated_error():
    """The kernel's own erf (Pallas' Triton lowering has no erf primitive): within its approximation
    error (6.5e-8) of SciPy's, plus float32 rounding (4.4e-7 at most) where it runs in float32."""
    v = np.linspace(-8.0, 8.0, 400_001)
    assert np.max(np.abs(np.asarray(kernel_erf(jnp.asarray(v))) - erf(v))) < 1e-7
    got = np.asarray(kernel_erf(jnp.asarray(v, jnp.float32)), np.float64)
    assert np.max(np.abs(got - erf(v))) < 5e-7
    np.testing.assert_array_equal(got, -got[::-1])  # odd, exactly


#: an H200 as the lowering's target, no device needed
H200 = AbstractMesh((1,), ("x",), abstract_device=AbstractDevice("NVIDIA H200", 132, "gpu"))
TRITON = "__gpu$xla.gpu.triton"


def lower_for_h200(arch, tiles=None) -> str:
    sample = fused_sampler(arch, np.linspace(-1.0, 1.0, 6)[:, None], "float32", interpret=False, tiles=tiles)
    keys = jax.random.split(jax.random.key(0), 256)
    with use_abstract_mesh(H200):
        lowered = export.export(
            jax.jit(sample), platforms=["cuda"], disabled_checks=[export.DisabledSafetyCheck.custom_call(TRITON)]
        )(keys)
    return lowered.mlir_module()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_kernel_lowers_to_triton_for_an_h200(activation):
    """The kernel as the device compiles it: one Triton call. erf, which Triton lacks, failed here
    before the kernel computed its own."""
    assert lower_for_h200(nn.SingleLayer(width=100, activation=activation)).count(TRITON) == 1


def test_kernel_lowers_at_every_tile_shape_the_gpu_benchmark_runs():
    for tiles in GPU_TILES:
        assert lower_for_h200(nn.ErfNet(width=1000), tiles).count(TRITON) == 1, tiles
