"""Test configuration: headless plots, small notebook sizes, float64.

The tests run in float64: this enables `jax_enable_x64` for the whole test process (importing
`nnft_ppl` does not; the library scopes float64 to its own entry points, and
tests/test_x64.py checks that in a fresh subprocess)."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NNFT_SMALL", "1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)

import nnft_ppl  # noqa: E402,F401


@pytest.fixture
def rng():
    return np.random.default_rng(20261128)
