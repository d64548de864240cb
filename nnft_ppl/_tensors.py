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
    return _lookup(n_points, order, {t: i for i, t in enumerate(sorted_tuples(n_points, order))})


def _lookup(n_points: int, order: int, index: dict) -> np.ndarray:
    grid = np.indices((n_points,) * order).reshape(order, -1).T
    grid.sort(axis=1)
    return np.fromiter((index[tuple(g)] for g in map(tuple, grid.tolist())), dtype=np.int64, count=len(grid))


def expand(values, n_points: int, order: int, index: dict | None = None) -> np.ndarray:
    """Values over sorted tuples of one order (last axis; any leading axes) -> the full
    symmetric tensor, shape leading + (P,)*order. `index[t]` is the position of tuple t
    along the last axis; by default the order of `sorted_tuples(n_points, order)`."""
    values = np.asarray(values)
    lookup = _default_lookup(n_points, order) if index is None else _lookup(n_points, order, index)
    full = np.take(values, lookup, axis=-1)
    return full.reshape(values.shape[:-1] + (n_points,) * order)
