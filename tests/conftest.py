"""Test configuration: headless plots, small notebook sizes, float64.

The tests run in float64: this enables `jax_enable_x64` for the whole test process (importing
`nnft_ppl` does not; the library scopes float64 to its own entry points, and
tests/test_x64.py checks that in a fresh subprocess)."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NNFT_SMALL", "1")
# one BLAS thread per process: two workers already fill the two cores, and OpenBLAS's idle threads
# spin after every NumPy matmul (blas_thread_server was 3% of a compile-heavy run's CPU, perf-measured).
# Set before NumPy loads (nothing imports it before this file); inherited by kernels and subprocesses
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# XLA's LLVM back end at -O0: this suite is compile-bound (measured: test_estimators 88 -> 61 CPU-s,
# and the run-time-heavy test_bnn + test_width_scaling 255 -> 226); IEEE semantics are unchanged.
# Long, run-bound programs opt back into -O2 per jit (`nnft_ppl._cache.RUN_BOUND`). Not used: XLA's
# classic fusion emitters (--xla_cpu_use_fusion_emitters=false) compile 25% faster but gave KAN's
# kernel a wrong gradient (18% off; tests/test_scale_grads.py). Set before JAX starts its back end;
# inherited by notebook kernels and `nnft` subprocesses.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    """float64 and the persistent compilation cache in every process that runs tests. The xdist
    controller of `make test` runs none: it skips importing JAX and the library (7 CPU-s, measured,
    while its two workers start on the same two cores)."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    import nnft_ppl  # noqa: F401
    from nnft_ppl._cache import enable_compilation_cache

    # one persistent compilation cache for both pytest workers and every process they start
    # (notebook kernels, `nnft` subprocesses): compilation is most of this suite's time
    enable_compilation_cache()
    # the cyclic garbage collector ran 1,900 young and 10 full collections over test_gp + test_ntk,
    # 2.9 of their 78 s; with a larger young generation and rarer promotions, 1.4 s (measured)
    gc.set_threshold(20_000, 20, 20)


@pytest.fixture
def rng():
    return np.random.default_rng(20261128)


#: test modules by their measured time on a fresh clone (tests/durations.py prints it from a JUnit
#: report), longest first. `make test` hands whole modules to its two workers in this order
#: (`--dist loadscope --no-loadscope-reorder`), so the long ones start first and the short ones fill
#: in at the end; xdist's own order (most tests first) started single-test studies last, with one
#: worker idle. A module not listed runs after the listed ones.
LONGEST_FIRST = (
    "test_notebooks test_architectures test_estimators test_deform_sampling test_calibration "
    "test_width_scaling test_bnn test_gp test_readme test_ntk test_devices test_training test_deform_inputs "
    "test_gp_fit_checks test_symmetry test_deform_float32 test_bnn_collapsed test_scale_grads test_resume "
    "test_conv test_distributed test_symmetry_on_nuts test_attention test_action_sampled test_heavy_tails"
).split()


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: a module keeps its order
