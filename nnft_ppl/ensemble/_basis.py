"""The monomial basis: every product phi(x_i1)...phi(x_ik) (sorted index tuple) an
estimate needs, built level by level so each monomial costs one multiplication."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property

import jax.numpy as jnp
import numpy as np

from .._errors import NNFTError
from .._tensors import sorted_tuples

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
        tuples = [t for k in range(1, max_order + 1) for t in sorted_tuples(n_points, k)]
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
        need.update(sorted_tuples(n_points, 2))
        order = max(len(t) for t in need)
        levels = tuple(tuple(sorted(t for t in need if len(t) == k)) for k in range(1, order + 1))
        index = {t: i for i, t in enumerate(t for lev in levels for t in lev)}
        return cls(n_points, levels, index)

    def evaluate(self, phi: jnp.ndarray, upto: int | None = None) -> list[jnp.ndarray]:
        """Monomials of samples phi (M, P), one (M, |level k|) array per length k <= upto."""
        prev = phi[:, jnp.asarray([t[0] for t in self.levels[0]])]
        out = [prev]
        pos = {t: i for i, t in enumerate(self.levels[0])}
        for lev in self.levels[1 : upto or self.max_order]:
            parent = np.asarray([pos[t[:-1]] for t in lev])
            last = np.asarray([t[-1] for t in lev])
            prev = prev[:, parent] * phi[:, last]
            out.append(prev)
            pos = {t: i for i, t in enumerate(lev)}
        return out

    def hafnians(self, sigma: jnp.ndarray) -> list[jnp.ndarray]:
        """E[phi(x_i1)...phi(x_ik)] for phi ~ N(0, sigma), per sample: one (M, |level k|) array per
        length k, from covariances sigma (M, P, P). Zero at odd k; at even k the hafnian of the tuple's
        block of sigma, by the recursion over the first index's partner
        haf(t) = sum_j sigma[t0, tj] haf(t without t0, tj) (the shorter tuple is in the basis: it is
        closed under sub-multisets)."""
        m = sigma.shape[0]
        out: list[jnp.ndarray] = []
        pos: dict[int, dict[tuple[int, ...], int]] = {}
        for k, lev in enumerate(self.levels, start=1):
            if k % 2:
                out.append(jnp.zeros((m, len(lev)), sigma.dtype))
                continue
            first = np.asarray([t[0] for t in lev])
            val = 0.0
            for j in range(1, k):
                pair = sigma[:, first, np.asarray([t[j] for t in lev])]
                val = val + (pair if k == 2 else pair * out[k - 3][:, [pos[k - 2][t[1:j] + t[j + 1 :]] for t in lev]])
            pos[k] = {t: i for i, t in enumerate(lev)}
            out.append(val)
        return out

    @cached_property
    def _level_codes(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per level: the sorted base-P codes of its tuples and their columns."""
        out, start = [], 0
        for lev in self.levels:
            arr = np.asarray(lev, np.int64).reshape(len(lev), -1)
            codes = _encode(arr, self.n_points)
            order = np.argsort(codes)
            out.append((codes[order], start + order))
            start += len(lev)
        return out

    def columns(self, tuples: np.ndarray) -> np.ndarray:
        """Columns of index tuples (T, k) (any order within a tuple), vectorised; refuses missing ones."""
        arr = np.sort(np.asarray(tuples, np.int64), axis=1)
        codes, cols = self._level_codes[arr.shape[1] - 1]
        c = _encode(arr, self.n_points)
        pos = np.minimum(np.searchsorted(codes, c), len(codes) - 1)
        if not np.all(codes[pos] == c):
            raise NNFTError(f"tuples: {arr[np.flatnonzero(codes[pos] != c)[0]].tolist()} is not in the basis")
        return cols[pos]

    @cached_property
    def plan(self) -> tuple[tuple[int, int, np.ndarray, np.ndarray], ...]:
        """How each level's sums come out of one small matrix product: the sum of the
        length-k monomials t is entry (t[:a], t[a:]) of L_a^T L_b, a = k // 2, b = k - a
        (L_0 a column of ones). Cheaper than forming every monomial when the half
        levels are small (full tensors over few points)."""
        pos = [{(): 0}] + [{t: i for i, t in enumerate(lev)} for lev in self.levels]
        out = []
        for k, lev in enumerate(self.levels, start=1):
            a = k // 2
            rows = np.asarray([pos[a][t[:a]] for t in lev])
            cols = np.asarray([pos[k - a][t[a:]] for t in lev])
            out.append((a, k - a, rows, cols))
        return tuple(out)

    @cached_property
    def use_products(self) -> bool:
        """Whether the half-level products are cheaper than forming every monomial."""
        sizes = [1] + [len(lev) for lev in self.levels]
        cost = sum(sizes[a] * sizes[b] for a, b, _, _ in self.plan)
        return cost <= 16 * self.size

    def weighted_sums(self, phi: jnp.ndarray, weight: jnp.ndarray):
        """Per-level sums over samples of weight * monomial, as device arrays (see `flatten`)."""
        half = (self.max_order + 1) // 2 if self.use_products else self.max_order
        levels = self.evaluate(phi, half)
        if not self.use_products:
            return tuple(weight @ lev for lev in levels)
        ones = jnp.ones((phi.shape[0], 1), phi.dtype)
        lv = [ones] + levels
        return tuple((weight[:, None] * lv[a]).T @ lv[b] for a, b, _, _ in self.plan)

    def flatten(self, sums) -> np.ndarray:
        """The (K,) vector of monomial sums, in basis order, from `weighted_sums` output."""
        if not self.use_products:
            return np.concatenate([np.asarray(s) for s in sums])
        return np.concatenate([np.asarray(s)[r, c] for s, (_, _, r, c) in zip(sums, self.plan, strict=True)])


def _encode(arr: np.ndarray, n_points: int) -> np.ndarray:
    code = np.zeros(arr.shape[0], np.int64)
    for j in range(arr.shape[1]):
        code = code * n_points + arr[:, j]
    return code


def _n_multisets(p: int, k: int) -> int:
    from math import comb

    return comb(p + k - 1, k)
