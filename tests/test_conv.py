"""ConvNet: Monte Carlo G2 against the recursion kernel at many channels (1-D and 2-D, both
readouts; drawn by the collapsed sampler, so this checks it too), the recursion against an
independent loop implementation, shift invariance, GPJax, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import assert_within_se

from nnft_ppl import NNFTError
from nnft_ppl.architectures import ConvNet, get_activation
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.gp import NNGPKernel

IU = np.triu_indices(3)

#: at depth 2 the O(1/C) correction is below 1% of K already at C = 4 (benchmarks/conv_attention.py:
#: mean relative deviation 0.003 +- 0.002 at C = 4 ... 0.006 +- 0.002 at C = 256), far below the
#: SE here (~1% of K); depth 1 has none (i.i.d. channels)
LARGE = {
    "1d-gap-relu-depth2": dict(width=64, depth=2, d=4),
    "2d-dense-erf-depth2": dict(width=64, depth=2, d=4, shape=(2, 2), filter_size=2, readout="dense", activation="erf"),
}


@pytest.mark.parametrize("case", sorted(LARGE))
def test_monte_carlo_g2_matches_kernel_at_many_channels(case):
    """G2 of 20 000 networks (fixed key) within 4 SE, Bonferroni over the 6 distinct pairs."""
    arch = ConvNet(**LARGE[case])
    x = np.random.default_rng(7).normal(size=(3, arch.d))
    ds = ensemble_correlators(arch, x, 20_000, key=5, max_order=2, progress=False)
    assert float(np.max(ds.G2_khat.values)) < 0.5
    ref = np.asarray(arch.nngp_kernel(x, x))
    assert_within_se(ds.G2.values[IU], ds.G2_se.values[IU], ref[IU], ds.attrs["n_blocks"], what=case)


def _loop_kernel(arch, x, y):
    """The recursion written out with loops over locations and taps (numpy), an independent check."""
    dual = get_activation(arch.activation).dual  # the elementwise dual itself is tested elsewhere
    taps, sw2, sb2 = arch.taps, arch.sw**2, arch.sb**2
    k, s = taps.shape
    pts = np.concatenate([x, y])
    n = len(pts)
    cov = np.zeros((n, s, n, s))
    for a, b, i, j in itertools.product(range(n), range(n), range(s), range(s)):
        cov[a, i, b, j] = sb2 + sw2 * np.mean([pts[a, taps[t, i]] * pts[b, taps[t, j]] for t in range(k)])
    for layer in range(arch.depth):
        var = np.einsum("aiai->ai", cov)
        post = sb2 + sw2 * np.asarray(dual(var[:, :, None, None], cov, var[None, None]))
        if layer + 1 == arch.depth:
            cov = post
            break
        for a, b, i, j in itertools.product(range(n), range(n), range(s), range(s)):
            cov[a, i, b, j] = np.mean([post[a, taps[t, i], b, taps[t, j]] for t in range(k)])
    if arch.readout == "gap":
        out = cov.mean(axis=(1, 3))
    else:
        out = np.einsum("aibi->ab", cov) / s
    return out[: len(x), len(x) :]


@pytest.mark.parametrize("readout", ["gap", "dense"])
def test_recursion_matches_loop_implementation(readout):
    arch = ConvNet(width=4, depth=2, d=6, shape=(2, 3), readout=readout, sw=1.3, sb=0.4)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(2, 6)), rng.normal(size=(1, 6))
    np.testing.assert_allclose(np.asarray(arch.nngp_kernel(x, y)), _loop_kernel(arch, x, y), rtol=1e-12, atol=1e-13)


def test_shift_invariance():
    """gap: every network (and so the kernel in each argument alone) is invariant under cyclic
    shifts of its input; dense: only the kernel, under a joint shift of both arguments."""
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(2, 6)), rng.normal(size=(1, 6))  # the shapes and nets of the loop test: compiled once

    def roll(z):
        return np.roll(z.reshape(-1, 2, 3), (1, 2), axis=(1, 2)).reshape(-1, 6)

    gap, dense = (ConvNet(width=4, depth=2, d=6, shape=(2, 3), readout=r, sw=1.3, sb=0.4) for r in ("gap", "dense"))
    shapes = {"W0": (4, 1, 9), "b0": (4,), "W1": (4, 4, 9), "b1": (4,), "W_out": (4,), "b_out": ()}
    theta = {k: rng.normal(size=s) for k, s in shapes.items()}  # any parameters: the invariance is exact
    np.testing.assert_allclose(gap.apply(theta, roll(x)), gap.apply(theta, x), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gap.nngp_kernel(roll(x), y), gap.nngp_kernel(x, y), rtol=1e-12)
    np.testing.assert_allclose(dense.nngp_kernel(roll(x), roll(y)), dense.nngp_kernel(x, y), rtol=1e-12)
    assert np.abs(np.asarray(dense.nngp_kernel(roll(x), y) - dense.nngp_kernel(x, y))).max() > 1e-3


def test_gpjax_kernel_on_images():
    arch = ConvNet(width=4, depth=2, d=6, shape=(2, 3), sw=1.3, sb=0.4)
    x = np.random.default_rng(2).normal(size=(2, 6))
    k = np.asarray(arch.nngp_kernel(x, x))
    gk = NNGPKernel(arch)
    np.testing.assert_allclose(np.asarray(gk.gram(x).as_matrix()), 0.5 * (k + k.T), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(gk.cross_covariance(x, x[:1])), k[:, :1], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d=5, shape=(2, 3)), "shape"),
        (dict(d=8, shape=(2, 2, 2)), "shape"),
        (dict(d=3, shape=(0, 3)), "shape"),
        (dict(d=6, shape="2x3"), "shape"),
        (dict(d=4, readout="max"), "readout"),
        (dict(d=4, filter_size=0), "filter_size"),
        (dict(d=4, depth=0), "depth"),
        (dict(d=4, width=0), "width"),
        (dict(d=4, sw=-1.0), "sw"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs, match):
    with pytest.raises(NNFTError, match=match):
        ConvNet(**kwargs)


def test_image_of_the_wrong_size():
    arch = ConvNet(width=3, d=6, shape=(2, 3))
    with pytest.raises(NNFTError, match="x1"):
        arch.nngp_kernel(np.zeros((2, 4)), np.zeros((2, 6)))
    with pytest.raises(NNFTError, match="x"):
        arch.apply({}, np.zeros((2, 3, 2)))  # the points are checked before the parameters are read
    with pytest.raises(NNFTError, match="x"):
        arch.prior(np.zeros((2, 4)))
