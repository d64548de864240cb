"""The monomial basis: every product phi(x_i1)...phi(x_ik) (sorted index tuple) an
estimate needs, built level by level so each monomial costs one multiplication."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

from .._errors import NNFTError

#: largest basis the full-tensor mode builds before asking for explicit index tuples
MAX_FULL_BASIS = 60_000


@dataclass(frozen=True, eq=False)
class MonomialBasis:
    """Sorted index tuples grouped by length; `index[t]` is the column of tuple t."""

    n_points: int
    levels: tuple[tuple[tuple[int, ...], ...], ...]
    index: dict[tuple[int, ...], int] = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.index)

    @property
    def max_order(self) -> int:
        return len(self.levels)

    @classmethod
    def full(cls, n_points: int, max_order: int) -> MonomialBasis:
        """All sorted tuples over `n_points` points up to length `max_order`."""
        size = sum(_n_multisets(n_points, k) for k in range(1, max_order + 1))
        if size > MAX_FULL_BASIS:
            raise NNFTError(
                f"x: {n_points} points at order {max_order} need {size} monomials; pass `tuples=` "
                "(the index tuples you need) instead of full tensors"
            )
        combos = itertools.combinations_with_replacement
        tuples = [t for k in range(1, max_order + 1) for t in combos(range(n_points), k)]
        return cls.from_tuples(n_points, tuples)

    @classmethod
    def from_tuples(cls, n_points: int, tuples) -> MonomialBasis:
        """The closure under sub-multisets of the given index tuples (and all points and pairs)."""
        need: set[tuple[int, ...]] = set()
        for t in tuples:
            t = tuple(sorted(int(i) for i in t))
            if any(i < 0 or i >= n_points for i in t):
                raise NNFTError(f"tuples: index out of range 0..{n_points - 1} in {t}")
            for k in range(1, len(t) + 1):
                need.update(itertools.combinations(t, k))
        need.update((i,) for i in range(n_points))
        need.update(itertools.combinations_with_replacement(range(n_points), 2))
        order = max(len(t) for t in need)
        levels = tuple(tuple(sorted(t for t in need if len(t) == k)) for k in range(1, order + 1))
        index = {t: i for i, t in enumerate(t for lev in levels for t in lev)}
        return cls(n_points, levels, index)

    def evaluate(self, phi: jnp.ndarray) -> jnp.ndarray:
        """All monomials of samples phi (M, P) -> (M, K), in phi's dtype."""
        prev = phi[:, jnp.asarray([t[0] for t in self.levels[0]])]
        out = [prev]
        pos = {t: i for i, t in enumerate(self.levels[0])}
        for lev in self.levels[1:]:
            parent = np.asarray([pos[t[:-1]] for t in lev])
            last = np.asarray([t[-1] for t in lev])
            prev = prev[:, parent] * phi[:, last]
            out.append(prev)
            pos = {t: i for i, t in enumerate(lev)}
        return jnp.concatenate(out, axis=1)


def _n_multisets(p: int, k: int) -> int:
    from math import comb

    return comb(p + k - 1, k)


def expand(values: np.ndarray, n_points: int, order: int, index: dict, axis: int = -1) -> np.ndarray:
    """Values over sorted tuples of one order (any leading axes) -> full symmetric tensor (P,)*order."""
    grid = np.indices((n_points,) * order).reshape(order, -1).T
    grid.sort(axis=1)
    lookup = np.fromiter((index[tuple(g)] for g in map(tuple, grid)), dtype=np.int64, count=len(grid))
    full = np.take(values, lookup, axis=axis)
    return full.reshape(values.shape[:-1] + (n_points,) * order)
