"""Importing nnft_ppl changes no global JAX setting, and its float64 entry points still give
float64 results to a caller running in JAX's default 32-bit mode (issue 11).

The test process itself runs in float64 (tests/conftest.py); the checks run in a fresh
subprocess, where nothing enabled `jax_enable_x64` (tests/test_devices.py's, shared), and compare
with this process's float64 results to rounding (1e-12 relative: the same float64 computation)."""

from __future__ import annotations

import sys
import warnings

import jax
import numpy as np
import pytest

from nnft_ppl import ErfNet
from nnft_ppl.ensemble import ensemble_correlators
from nnft_ppl.theory import exact_connected

X = [[-0.5], [0.25], [1.0]]

# The fresh 32-bit process is tests/test_devices.py's subprocess (one Python + JAX start for both
# modules), whose `test_import_leaves_x64_alone_and_entry_points_stay_float64` calls this with its
# results: jax_enable_x64 before and after `import nnft_ppl`, and the float64 entry points' results there.


def check_fresh_float64_run(out: dict) -> None:
    """Importing nnft_ppl left x64 off in the fresh process, whose float64 entry points gave this
    process's float64 results to rounding."""
    assert out["x64_before"] is False and out["x64_after"] is False
    assert out["zeros_dtype"] == "float32"
    assert out["truncation_warnings"] == []
    assert out["scale"] == 0.7  # the scale is stored exactly (float64), whatever the caller's mode

    arch = ErfNet(width=5, sw=0.7, sb=0.3)
    x = np.asarray(X)
    g4 = np.asarray(exact_connected(arch, x, order=4)).ravel()
    np.testing.assert_allclose(out["g4"], g4, rtol=1e-12, atol=1e-15)
    ens = ensemble_correlators(arch, x, 2048, 3, max_order=2, n_blocks=8, progress=False)
    assert out["g2_dtype"] == "float64"
    np.testing.assert_allclose(out["g2"], ens["G2"].values.ravel(), rtol=1e-12, atol=1e-15)


def test_float64_scope_restores_caller_mode():
    from nnft_ppl._x64 import float64

    seen = []
    wrapped = float64(lambda: seen.append(jax.config.jax_enable_x64) or jax.numpy.ones(2, "float64"))
    with jax.enable_x64(False):
        out = wrapped()
        assert not jax.config.jax_enable_x64
    assert seen == [True]
    assert isinstance(out, np.ndarray) and out.dtype == np.float64  # kept as NumPy in 32-bit mode


def test_prior_draws_in_default_float():
    """`prior(dtype=None)` in a user's float32 program: float32 draws and no truncation warning."""
    from numpyro import handlers

    arch = ErfNet(width=4, sw=0.7)
    with jax.enable_x64(False), warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = handlers.trace(handlers.seed(arch.prior, 0)).get_trace(np.asarray(X, np.float32))
        dtypes = {k: v["value"].dtype for k, v in tr.items() if v["type"] == "sample"}
    assert set(dtypes.values()) == {np.dtype("float32")}, dtypes
    tr = handlers.trace(handlers.seed(arch.prior, 0)).get_trace(np.asarray(X))
    assert {v["value"].dtype for k, v in tr.items() if v["type"] == "sample"} == {np.dtype("float64")}


def test_warnings_still_point_at_the_callers_line():
    """A warning issued with `stacklevel` for the caller of a wrapped entry point points at that
    caller, not at the float64 wrapper."""
    from nnft_ppl._x64 import float64

    @float64
    def entry():
        warnings.warn("for the caller", UserWarning, stacklevel=2)
        return 1

    with pytest.warns(UserWarning, match="for the caller") as rec:
        line = sys._getframe().f_lineno + 1
        entry()
    assert rec[0].filename == __file__ and rec[0].lineno == line
    with jax.enable_x64(False), pytest.warns(UserWarning) as rec:
        entry()
    assert rec[0].filename == __file__
