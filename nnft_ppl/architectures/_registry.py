"""The zoo registry: every final `Architecture` subclass, by class name.

A class registers itself by being defined (`Architecture.__init_subclass__`); abstract
classes (abstract methods or `eqx.AbstractVar` fields) and private names (a leading
underscore) are skipped when the registry is read, so `REGISTRY` is exactly the set of
concrete architectures a user can build.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping

from .._errors import NNFTError

_CLASSES: dict[str, type] = {}


def register(cls: type) -> None:
    """Record a newly defined architecture class (called by `Architecture.__init_subclass__`).

    Redefining a class of the same module and name (a reload) replaces it; the same name from
    another module is an error, since cards and recipes name architectures by class name."""
    old = _CLASSES.get(cls.__name__)
    if old is not None and old.__module__ != cls.__module__ and _is_final(old):
        raise NNFTError(
            f"architecture: {cls.__module__}.{cls.__name__} reuses the name of {old.__module__}.{old.__name__}"
        )
    _CLASSES[cls.__name__] = cls


def _is_final(cls: type) -> bool:
    if cls.__name__.startswith("_") or inspect.isabstract(cls):
        return False
    return not (getattr(cls, "__abstractvars__", None) or getattr(cls, "__abstractclassvars__", None))


class Registry(Mapping):
    """Read-only view: class name -> final architecture class, in definition order."""

    def _final(self) -> dict[str, type]:
        return {k: c for k, c in _CLASSES.items() if _is_final(c)}

    def __getitem__(self, name: str) -> type:
        return self._final()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._final())

    def __len__(self) -> int:
        return len(self._final())

    def __repr__(self) -> str:
        return f"Registry({sorted(self)})"

    def unregister(self, name: str) -> None:
        """Forget an architecture (for tests that define throwaway ones)."""
        _CLASSES.pop(name, None)


#: every concrete architecture by class name (derived: defining a final subclass adds it)
REGISTRY = Registry()
