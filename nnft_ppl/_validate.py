"""Argument checks shared by every public entry point.

Each check raises `NNFTError` naming the argument, so bad input never reaches JAX
as a deep traceback or a silent NaN.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from ._errors import NNFTError


def _traced(value) -> bool:
    """Values inside a JAX transformation (grad, vmap, jit) cannot be checked eagerly."""
    return isinstance(value, jax.core.Tracer)


def positive(name: str, value) -> float:
    """A finite, strictly positive float (traced values pass through unchecked)."""
    if _traced(value):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise NNFTError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise NNFTError(f"{name} must be finite and > 0, got {value!r}")
    return v


def nonnegative(name: str, value) -> float:
    """A finite float >= 0."""
    if _traced(value):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise NNFTError(f"{name} must be a number >= 0, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0:
        raise NNFTError(f"{name} must be finite and >= 0, got {value!r}")
    return v


def integer(name: str, value, minimum: int = 1) -> int:
    """An integer >= minimum (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise NNFTError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise NNFTError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def points(name: str, x, d: int | None = None) -> np.ndarray:
    """Input points as a finite float64 array of shape (P, d).

    A 1-D array is read as P points in d = 1.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise NNFTError(f"{name} must be an array of shape (P, d), got {type(x).__name__}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise NNFTError(f"{name} must have shape (P, d) with P >= 1, got shape {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise NNFTError(f"{name} must be finite; it contains NaN or inf")
    if d is not None and arr.shape[1] != d:
        raise NNFTError(f"{name} has input dimension {arr.shape[1]} but the architecture has d = {d}")
    return arr
