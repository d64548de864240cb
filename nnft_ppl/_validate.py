"""Argument checks shared by every public entry point.

Each check raises `NNFTError` naming the argument, so bad input never reaches JAX
as a deep traceback or a silent NaN.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from ._errors import NNFTError

#: largest positive scale accepted (its square stays finite in float64)
MAX_SCALE = 1e150


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
    if v > MAX_SCALE:
        raise NNFTError(f"{name} = {value!r} is too large (over {MAX_SCALE:g}: its square overflows float64)")
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
    if value > 2**62:
        raise NNFTError(f"{name} = {value} is too large (at most 2**62)")
    return int(value)


def field_integer(name: str, value, minimum: int = 1, maximum: int = 2**31 - 1) -> int:
    """An integer field of an architecture (width, d): a Python or NumPy int in [minimum, maximum];
    a float such as 3.0 is refused (a frozen module would store it as a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise NNFTError(f"{name} must be an integer >= {minimum}, got {type(value).__name__} {value!r}")
    if value > maximum:
        raise NNFTError(f"{name} = {value} is too large (at most {maximum})")
    return integer(name, value, minimum)


def points(name: str, x, d: int | None = None) -> np.ndarray:
    """Input points as a finite float64 array of shape (P, d).

    A 1-D array is read as P points in d = 1.
    """
    if np.iscomplexobj(x):
        raise NNFTError(f"{name} must be real; got complex values (the imaginary part would be dropped)")
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
    if arr.size and np.max(np.abs(arr)) > MAX_SCALE:
        raise NNFTError(f"{name} has entries over {MAX_SCALE:g} in magnitude (their squares overflow float64)")
    if d is not None and arr.shape[1] != d:
        raise NNFTError(f"{name} has input dimension {arr.shape[1]} but the architecture has d = {d}")
    return arr


def field_points(name: str, x, d: int):
    """Points handed to an architecture's public methods (`prior`, `apply`, `nngp_kernel`):
    shape (P, d), or 1-D (P,) read as P points when d = 1. Checks shapes only (works on
    traced values inside jit/grad/vmap) and keeps the dtype and array type; a concrete
    array must be finite."""
    arr = x if isinstance(x, (jax.Array, np.ndarray)) else np.asarray(x)
    if np.iscomplexobj(arr):
        raise NNFTError(f"{name} must be real; got complex values (the imaginary part would be dropped)")
    if arr.ndim == 1:
        if d != 1:
            raise NNFTError(
                f"{name}: 1-D points are read as P points in d = 1, but the architecture has d = {d}; "
                f"pass shape (P, {d})"
            )
        arr = arr[:, None]
    if arr.ndim != 2:
        raise NNFTError(f"{name} must have shape (P, d = {d}) (or (P,) when d = 1), got shape {arr.shape}")
    if arr.shape[1] != d:
        raise NNFTError(f"{name} has input dimension {arr.shape[1]} but the architecture has d = {d}")
    if not _traced(arr) and not np.all(np.isfinite(np.asarray(arr))):
        raise NNFTError(f"{name} must be finite; it contains NaN or inf")
    if not _traced(arr) and arr.size and np.max(np.abs(np.asarray(arr, np.float64))) > MAX_SCALE:
        raise NNFTError(f"{name} has entries over {MAX_SCALE:g} in magnitude (their squares overflow float64)")
    return arr
