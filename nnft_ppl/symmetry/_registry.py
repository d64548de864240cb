"""The registry of symmetry tests: the report runs every registered test that applies to an ensemble.

A test is a `SymmetryCheck`: a name, `applies(ctx)` (does it apply to this field ensemble?),
`run(ctx)` (a `SymmetryResult`) and optionally a power scan (`power(n, key, grid, alpha)`, the
breaking it scans and its default grid). `register_symmetry_test` adds one; `symmetry.report`
(and so `nnft symmetry`) and `power_table` pick it up with no other edit.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
import xarray as xr
from jaxtyping import PRNGKeyArray

from .._errors import NNFTError
from ._core import DEFAULT_ALPHA, SymmetryResult
from ._data import Fields


@dataclasses.dataclass
class EnsembleContext:
    """What a symmetry test may use: the ensemble `tree` and its `fields`, the `model` that drew it
    (None for a stored results file: data-only tests), its points `x`, size `n`, a root `key`, the
    level `alpha`, the recipe entry `spec`, and whether the ensemble is `deformed`."""

    tree: xr.DataTree
    fields: Fields
    model: Any
    x: np.ndarray
    n: int
    key: PRNGKeyArray
    alpha: float = DEFAULT_ALPHA
    spec: dict = dataclasses.field(default_factory=dict)
    deformed: bool = False
    group: str | None = None

    @property
    def data_only(self) -> bool:
        return self.model is None

    @property
    def d(self) -> int:
        return int(self.x.shape[1])

    def key_for(self, name: str) -> PRNGKeyArray:
        """A key of this test's own: independent of the ensemble's (`ensemble_key`) and of every other test's."""
        return jax.random.fold_in(jax.random.fold_in(self.key, 1), zlib.crc32(name.encode()))


def ensemble_key(key: PRNGKeyArray) -> PRNGKeyArray:
    """The key the ensemble itself is drawn from (disjoint from every `EnsembleContext.key_for`)."""
    return jax.random.fold_in(key, 0)


@dataclasses.dataclass(frozen=True)
class SymmetryCheck:
    """A registered symmetry test: `applies(ctx)`, `run(ctx)`; optionally `power(n, key, grid, alpha)`
    returning a `smallest_detected` dict with the ensemble size "n" used, the `breaking` it scans and
    its default strength `grid`."""

    name: str
    applies: Callable[[EnsembleContext], bool]
    run: Callable[[EnsembleContext], SymmetryResult]
    power: Callable[[int | None, PRNGKeyArray, Sequence[float] | None, float], dict] | None = None
    breaking: str = ""
    grid: tuple[float, ...] = ()


#: name -> SymmetryCheck, in registration order (the order of the report's rows)
SYMMETRY_TESTS: dict[str, SymmetryCheck] = {}


def register_symmetry_test(check: SymmetryCheck, replace: bool = False) -> SymmetryCheck:
    """Add `check` to the registry (an existing name needs `replace=True`); returns it."""
    if not isinstance(check, SymmetryCheck):
        raise NNFTError(f"check must be a SymmetryCheck, got {type(check).__name__}")
    if check.name in SYMMETRY_TESTS and not replace:
        raise NNFTError(f"check: a symmetry test named {check.name!r} is already registered")
    SYMMETRY_TESTS[check.name] = check
    return check


def unregister_symmetry_test(name: str) -> SymmetryCheck:
    """Remove a registered test by name; returns it."""
    if name not in SYMMETRY_TESTS:
        raise NNFTError(f"name: no symmetry test {name!r}; registered: {list(SYMMETRY_TESTS)}")
    return SYMMETRY_TESTS.pop(name)


def run_applicable(ctx: EnsembleContext) -> list[SymmetryResult]:
    """Every registered test that applies to `ctx`, in registration order."""
    return [c.run(ctx) for c in SYMMETRY_TESTS.values() if c.applies(ctx)]
