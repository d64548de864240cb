"""Compile time apart from run time, for every benchmark (issue 16 item 6).

Importing this module starts a clock of JAX's compilation in this process (tracing, lowering to
StableHLO and XLA's back end, as `jax.monitoring` reports them) and prints at exit how much of the
process's wall time it was. Benchmarks that time their own phases (compilation excluded by a warm-up
call) still print this line, so every benchmark's output says what compilation cost. `split()` gives the
same figures for a benchmark's JSON.
"""

from __future__ import annotations

import atexit
import time

import jax

#: the compile phases jax.monitoring times (tracing to a jaxpr, lowering, XLA's back-end compilation)
EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)
_START = time.perf_counter()
_TOTAL = {"compile_s": 0.0, "programs": 0}


def _listen(event: str, seconds: float, **_) -> None:
    if event in EVENTS:
        _TOTAL["compile_s"] += seconds
        _TOTAL["programs"] += event == EVENTS[-1]


jax.monitoring.register_event_duration_secs_listener(_listen)


def split() -> dict:
    """Wall time since import, the part of it spent compiling, the rest, and the programs compiled."""
    wall = time.perf_counter() - _START
    return {
        "wall_s": wall,
        "compile_s": _TOTAL["compile_s"],
        "run_s": wall - _TOTAL["compile_s"],
        "programs": _TOTAL["programs"],
    }


@atexit.register
def _report() -> None:
    s = split()
    print(
        f"[timing] {s['wall_s']:.1f} s wall: {s['compile_s']:.1f} s compiling {s['programs']} XLA programs, "
        f"{s['run_s']:.1f} s the rest (running, I/O, Python)",
        flush=True,
    )
