"""JAX's persistent compilation cache for the `nnft` command and the test suite.

Compilation dominates short runs on a CPU (the test suite spends most of its time in XLA),
and the same functions are compiled again by every process: pytest workers, notebook kernels,
`nnft` subprocesses. The cache folder is `.jax_cache/` in the project checkout (ignored by
git), or the folder named by `JAX_COMPILATION_CACHE_DIR`, or `NNFT_CACHE_DIR/jax` where the
package is not in a checkout. A library import never turns it on: only the program does.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

#: compile times above this (seconds) are cached; JAX's default (1 s) misses the many small
#: compilations a test run is made of
MIN_COMPILE_TIME_S = 0.05


def cache_dir() -> Path:
    """Where compiled programs are kept (see the module docstring)."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "nnft_ppl").is_dir():
        return root / ".jax_cache"
    base = os.environ.get("NNFT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "nnft_ppl")
    return Path(base) / "jax"


def enable_compilation_cache() -> Path:
    """Turn on the persistent cache for this process and the processes it starts; returns the folder."""
    path = cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(path)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(MIN_COMPILE_TIME_S))
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_S)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


#: sampler steps per chain (warm-up + draws) from which a sampler is compiled at full XLA back-end
#: optimisation even where the process lowers it (tests/conftest.py sets LLVM -O0, which saves compile
#: time on short programs): a long run costs far more at -O0 than the optimisation costs to compile
#: (measured: the test suite's 8-coupling phi4 scan, 8 chains x 1100 steps each, 108 -> 62 CPU-s).
#: Set where that gain was measured; shorter runs keep the process's level (and their draws)
LONG_RUN_STEPS = 1000

#: `jax.jit` compiler options for run-bound programs: XLA's default back-end optimisation (-O2),
#: whatever XLA_FLAGS set for the process; results agree with an -O0 build to rounding, not bit for bit
RUN_BOUND = {"xla_backend_optimization_level": 2}


def long_run_compiler_options(steps: int) -> dict | None:
    """`jax.jit` compiler options for a sampler of `steps` steps per chain: back-end -O2 (XLA's default)
    for a long run, None (the process's setting) otherwise."""
    return RUN_BOUND if steps >= LONG_RUN_STEPS else None
