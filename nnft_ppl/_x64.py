"""Float64 where the library needs it, scoped: the user's global JAX config is never touched.

Decorate a public entry point that accumulates or tests in float64 with `float64`; inside
it `jnp.float64` is real, and the caller's setting is restored on return. A caller running
without `jax_enable_x64` gets the 64-bit JAX arrays of the result as NumPy arrays (JAX
cannot compute with them in 32-bit mode; NumPy keeps every digit). A call with traced
arguments (inside the caller's `jit`/`grad`) runs in the caller's mode.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable

import jax
import numpy as np

_WIDE = (np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.uint64), np.dtype(np.complex128))


def _traced(tree) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


def _to_numpy(leaf):
    """A concrete 64-bit JAX array as NumPy; weakly typed scalars (architecture scales) stay."""
    if isinstance(leaf, jax.Array) and leaf.dtype in _WIDE and not leaf.weak_type:  # scales stay (as_scale)
        return np.asarray(leaf)
    return leaf


def _reissue(caught, caller) -> None:
    """Re-issue warnings caught in a wrapped call; one that a `stacklevel` attributed to this
    wrapper's frame is attributed to the wrapper's caller, where it was meant to point."""
    for w in caught:
        if w.filename == __file__:
            registry = caller.f_globals.setdefault("__warningregistry__", {})
            module = caller.f_globals.get("__name__")
            warnings.warn_explicit(
                w.message, w.category, caller.f_code.co_filename, caller.f_lineno, module=module, registry=registry
            )
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def float64[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` run with 64-bit JAX types enabled (scoped to the call). Warnings that `fn` issues
    with a `stacklevel` pointing at its caller point at the caller of the wrapper."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        caught = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                if jax.config.jax_enable_x64 or _traced((args, kwargs)):
                    return fn(*args, **kwargs)
                with jax.enable_x64(True):
                    out = fn(*args, **kwargs)
            return jax.tree_util.tree_map(_to_numpy, out)
        finally:
            _reissue(caught, sys._getframe(1))

    wrapper.__float64__ = True
    return wrapper


def scope_float64(namespace: dict, names) -> None:
    """Decorate, in place, every plain function among `names` of a module's `namespace` with
    `float64` (a package's `__init__` scopes its public functions in one line)."""
    for n in names:
        f = namespace.get(n)
        if callable(f) and not isinstance(f, type) and not getattr(f, "__float64__", False):
            namespace[n] = float64(f)
