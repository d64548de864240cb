"""Float64 where the library needs it, scoped: the user's global JAX config is never touched.

Decorate a public entry point that accumulates or tests in float64 with `float64`; inside
it `jnp.float64` is real, and the caller's setting is restored on return.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax


def float64[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` run with 64-bit JAX types enabled (scoped to the call)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper
