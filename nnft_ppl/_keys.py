"""One calling convention for random keys and dtypes across the library.

`as_key` turns an int seed or a JAX key into one typed JAX key; `as_dtype` turns a
dtype spelled as a string, a NumPy dtype or a `jnp` scalar type into a NumPy dtype.
Both raise `NNFTError` naming the argument.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import NNFTError

#: the float dtypes the library computes in (float32 for speed, float64 for accumulation)
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_key(key, name: str = "key") -> jax.Array:
    """An int seed (0 <= seed < 2**64, or a negative int64) or a single JAX PRNG key (typed,
    or legacy raw uint32 of shape (2,)) -> one typed JAX key."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        k = int(key)
        if not -(2**63) <= k < 2**64:
            raise NNFTError(f"{name}: an int seed must fit in 64 bits, got {k}")
        return jax.random.key(k)
    if isinstance(key, jax.Array):
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
            if key.shape != ():
                raise NNFTError(f"{name}: expected one key, got a batch of keys of shape {key.shape}")
            return key
        if key.dtype == jnp.uint32 and key.shape == (2,):
            return jax.random.wrap_key_data(key)
    raise NNFTError(f"{name}: expected an int seed or a JAX PRNG key, got {key!r}")


def as_dtype(dtype, name: str = "dtype", allowed=FLOAT_DTYPES) -> np.dtype:
    """'float32', np.float32, jnp.float32 or np.dtype('float32') (and the same for the other
    allowed dtypes) -> the NumPy dtype."""
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or not any(dt == a for a in allowed):
        names = " or ".join(repr(str(a)) for a in allowed)
        raise NNFTError(f"{name}: must be {names} (a string, NumPy or jnp dtype), got {dtype!r}")
    return dt


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def rng_key_arg(rng_key, old_kwargs: dict, where: str) -> jax.Array:
    """NumPyro's spelling `rng_key` (an int seed or a JAX key, see `as_key`) with the former
    keyword `key=` still accepted for one release: popped from `old_kwargs` with a
    `DeprecationWarning` that points at the first frame outside nnft_ppl (the user's call)."""
    if "key" in old_kwargs:
        old = old_kwargs.pop("key")
        if rng_key is not None:
            raise NNFTError(f"{where}: pass rng_key only (key= is its deprecated former name)")
        warnings.warn(
            f"{where}(key=...) is deprecated; use rng_key= (an int seed or a JAX key)",
            DeprecationWarning,
            skip_file_prefixes=(_PACKAGE_DIR,),
        )
        rng_key = old
    if rng_key is None:
        raise NNFTError(f"rng_key: {where} needs a random key (an int seed or a JAX key)")
    return as_key(rng_key, "rng_key")


def no_extra_arguments(kwargs: dict, where: str) -> None:
    """Refuse keyword arguments left after the deprecated ones were taken (as Python would)."""
    if kwargs:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {sorted(kwargs)}")
