"""Symmetric tensors over points, stored by their distinct entries.

A symmetric (P,)*r tensor (a correlator G_r(x_i1..x_ir)) is determined by its values on
the sorted index tuples i1 <= ... <= ir. This module is the one home of that convention:
enumerating the tuples, counting an entry's orderings, and expanding values over
tuples into the full tensor. Every package (ensemble, theory, deform, symmetry) uses it.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from functools import lru_cache

import numpy as np


def sorted_tuples(n_points: int, order: int) -> list[tuple[int, ...]]:
    """All sorted index tuples of length `order` over `n_points` points, in lexicographic order."""
    return list(itertools.combinations_with_replacement(range(n_points), order))


def sorted_tuple_array(n_points: int, order: int) -> np.ndarray:
    """`sorted_tuples` as an int64 array of shape (T, order)."""
    return np.array(sorted_tuples(n_points, order), dtype=np.int64).reshape(-1, order)


def multiplicity(t) -> int:
    """Number of distinct orderings of an index tuple (its weight in a full-tensor sum)."""
    out = math.factorial(len(t))
    for c in Counter(t).values():
        out //= math.factorial(c)
    return out


def distinct_mask(shape) -> np.ndarray:
    """Boolean mask of the entries with non-decreasing indices (each distinct entry of a symmetric tensor once)."""
    idx = np.indices(shape).reshape(len(shape), -1)
    return np.all(np.diff(idx, axis=0) >= 0, axis=0).reshape(shape)


@lru_cache(maxsize=32)
def _default_lookup(n_points: int, order: int) -> np.ndarray:
    return _lookup(n_points, order, None)


def _codes(rows, n_points: int) -> np.ndarray:
    """Base-`n_points` integer code of each index row (digits along the first axis), int64."""
    codes = np.zeros(np.shape(rows)[1:], np.int64)
    for digit in rows:
        codes = codes * n_points + digit
    return codes


def _sorted_grid(n_points: int, order: int) -> np.ndarray:
    """Every multi-index of the (P,)*order tensor with its indices sorted, shape (order, P**order)."""
    small = np.uint8 if n_points <= 256 else np.int64
    grid = [row for row in np.indices((n_points,) * order, dtype=small).reshape(order, -1)]
    for step in range(order):  # odd-even transposition sort: `order` passes of compare-and-swap
        for i in range(step % 2, order - 1, 2):
            grid[i], grid[i + 1] = np.minimum(grid[i], grid[i + 1]), np.maximum(grid[i], grid[i + 1])
    return np.stack(grid)


def _lookup(n_points: int, order: int, index: dict | None) -> np.ndarray:
    """Position along the values axis of every full-tensor entry (the sorted tuple it equals)."""
    if index is None:
        keys, positions = sorted_tuple_array(n_points, order), None
    else:
        keys = np.array(list(index.keys()), dtype=np.int64).reshape(-1, order)
        positions = np.fromiter(index.values(), dtype=np.int64, count=len(index))
    key_codes = _codes(keys.T, n_points)
    perm = np.argsort(key_codes, kind="stable")
    key_codes = key_codes[perm]
    codes = _codes(_sorted_grid(n_points, order), n_points)
    at = np.minimum(np.searchsorted(key_codes, codes), len(key_codes) - 1)
    missing = key_codes[at] != codes
    if missing.any():
        first = np.unravel_index(int(np.argmax(missing)), (n_points,) * order)
        raise KeyError(tuple(sorted(int(i) for i in first)))
    at = perm[at]
    return at if positions is None else positions[at]


def expand(values, n_points: int, order: int, index: dict | None = None) -> np.ndarray:
    """Values over sorted tuples of one order (last axis; any leading axes) -> the full
    symmetric tensor, shape leading + (P,)*order. `index[t]` is the position of tuple t
    along the last axis; by default the order of `sorted_tuples(n_points, order)`."""
    values = np.asarray(values)
    lookup = _default_lookup(n_points, order) if index is None else _lookup(n_points, order, index)
    full = np.take(values, lookup, axis=-1)
    return full.reshape(values.shape[:-1] + (n_points,) * order)
