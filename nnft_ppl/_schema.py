"""Recipe schemas: typed fields, checked before any work starts.

A recipe kind declares its schema as a `Table` when it registers (`register_recipe(kind, schema=...)`).
`Table.check` rejects unknown keys (naming the allowed ones), missing required keys and values of the
wrong type, with an `NNFTError` naming the dotted key (`fit.num_iters`, `ensembles[1].x`).
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Callable
from typing import Any

from ._errors import NNFTError


def _name(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def _fail(where: str, want: str, value) -> NNFTError:
    return NNFTError(f"{where} must be {want}, got {_name(value)} {value!r}")


class Field(abc.ABC):
    """One value of a recipe: `check` returns it (normalised) or raises `NNFTError` naming `where`."""

    @abc.abstractmethod
    def check(self, value, where: str):
        """The validated value."""

    @abc.abstractmethod
    def describe(self) -> str:
        """What the field accepts, in words."""


@dataclasses.dataclass(frozen=True)
class Int(Field):
    """An integer (a float, even 3.0, is refused: widths and counts are never truncated)."""

    lo: int | None = None
    hi: int | None = None

    def check(self, value, where):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(where, self.describe(), value)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise NNFTError(f"{where} must be {self.describe()}, got {value}")
        return value

    def describe(self):
        lo = f" >= {self.lo}" if self.lo is not None else ""
        hi = f"{' and' if lo else ''} <= {self.hi}" if self.hi is not None else ""
        return "an integer" + lo + hi


@dataclasses.dataclass(frozen=True)
class Float(Field):
    """A real number (an integer is accepted and converted)."""

    positive: bool = False

    def check(self, value, where):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(where, self.describe(), value)
        if not math.isfinite(value):
            raise NNFTError(f"{where} must be finite, got {value}")
        if self.positive and not value > 0:
            raise NNFTError(f"{where} must be > 0, got {value}")
        return float(value)

    def describe(self):
        return "a positive number" if self.positive else "a number"


@dataclasses.dataclass(frozen=True)
class Str(Field):
    """A string, optionally one of `choices`."""

    choices: tuple[str, ...] | None = None

    def check(self, value, where):
        if not isinstance(value, str):
            raise _fail(where, self.describe(), value)
        if self.choices is not None and value not in self.choices:
            raise NNFTError(f"{where} must be one of {list(self.choices)}, got {value!r}")
        return value

    def describe(self):
        return f"one of {list(self.choices)}" if self.choices else "a string"


@dataclasses.dataclass(frozen=True)
class Bool(Field):
    """`true` or `false`."""

    def check(self, value, where):
        if not isinstance(value, bool):
            raise _fail(where, self.describe(), value)
        return value

    def describe(self):
        return "true or false"


@dataclasses.dataclass(frozen=True)
class List(Field):
    """A list of `item`s, of at least `min_len` (and at most `max_len`) entries."""

    item: Field
    min_len: int = 0
    max_len: int | None = None

    def check(self, value, where):
        if not isinstance(value, list):
            raise _fail(where, self.describe(), value)
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            raise NNFTError(f"{where} must be {self.describe()}, got {len(value)} entries")
        return [self.item.check(v, f"{where}[{i}]") for i, v in enumerate(value)]

    def describe(self):
        n = f"{self.min_len}" if self.max_len == self.min_len else f"at least {self.min_len}"
        return f"a list of {n} x {self.item.describe()}" if self.min_len else f"a list of {self.item.describe()}"


@dataclasses.dataclass(frozen=True)
class Either(Field):
    """The first of `options` that accepts the value."""

    options: tuple[Field, ...]

    def check(self, value, where):
        for opt in self.options:
            try:
                return opt.check(value, where)
            except NNFTError:
                continue
        raise _fail(where, self.describe(), value)

    def describe(self):
        return " or ".join(o.describe() for o in self.options)


@dataclasses.dataclass(frozen=True)
class Map(Field):
    """A table with free key names (data sets, per-width counts), each value a `value`."""

    value: Field
    keys: Callable[[str], bool] | None = None
    keys_doc: str = ""

    def check(self, value, where):
        if not isinstance(value, dict):
            raise _fail(where, self.describe(), value)
        for k in value:
            if self.keys is not None and not self.keys(k):
                raise NNFTError(f"{where}: key {k!r} is not allowed; keys are {self.keys_doc}")
        return {k: self.value.check(v, f"{where}.{k}") for k, v in value.items()}

    def describe(self):
        return f"a table of {self.value.describe()}"


@dataclasses.dataclass(frozen=True)
class Table(Field):
    """A table with exactly these keys (`required` must be present); unknown keys are refused."""

    fields: dict[str, Field]
    required: tuple[str, ...] = ()
    open: bool = False  # True: keys beyond `fields` pass unchecked (only for kinds without a schema)

    def check(self, value, where):
        if not isinstance(value, dict):
            raise _fail(where or "recipe", "a table", value)
        prefix = f"{where}." if where else ""
        unknown = sorted(set(value) - set(self.fields))
        if unknown and not self.open:
            inside = f" in [{where}]" if where else ""
            raise NNFTError(f"unknown key '{prefix}{unknown[0]}'{inside}; allowed: {sorted(self.fields)}")
        missing = [k for k in self.required if k not in value]
        if missing:
            raise NNFTError(f"missing key '{prefix}{missing[0]}' ({self.fields[missing[0]].describe()})")
        return {k: self.fields[k].check(v, f"{prefix}{k}") if k in self.fields else v for k, v in value.items()}

    def describe(self):
        return f"a table with keys {sorted(self.fields)}"

    def extend(self, **fields: Field) -> Table:
        """This table with more keys."""
        return dataclasses.replace(self, fields={**self.fields, **fields})


def _build_zoo(name: str, params: dict):
    from .architectures import make_architecture

    return make_architecture(name, **params)


def _zoo_names() -> tuple[str, ...]:
    from .architectures import REGISTRY

    return tuple(sorted(REGISTRY))


#: parameters that count things (an integer, never a float)
COUNT_PARAMS = ("width", "d", "depth", "n_out")


@dataclasses.dataclass(frozen=True)
class Arch(Field):
    """An architecture: a table `{ name = "ErfNet", params = { ... } }`, built once to check it.

    `exclude` names parameters the recipe sets itself (e.g. `width` in a width scan); `names` and
    `build` default to the zoo's registry and `make_architecture` (`names=None`: `build` checks the name)."""

    exclude: tuple[str, ...] = ()
    names: Callable[[], tuple[str, ...]] | None = _zoo_names
    build: Callable[[str, dict], Any] = _build_zoo

    def check(self, value, where):
        shape = Table({"name": Str(), "params": Map(_ANY)}, required=("name",))
        value = shape.check(value, where)
        names = self.names() if self.names is not None else None
        if names is not None and value["name"] not in names:
            raise NNFTError(f"{where}.name must be one of {list(names)}, got {value['name']!r}")
        params = value.setdefault("params", {})
        for k in self.exclude:
            if k in params:
                raise NNFTError(f"{where}.params.{k} is not allowed here: this recipe sets {k} itself")
        for k in COUNT_PARAMS:
            if k in params:
                Int(lo=1).check(params[k], f"{where}.params.{k}")
        try:
            self.build(value["name"], params)
        except NNFTError as e:
            raise NNFTError(f"{where}.params: {e}") from None
        except (TypeError, ValueError) as e:
            raise NNFTError(f"{where}.params: {value['name']} refused them: {e}") from None
        return value

    def describe(self):
        return "a table { name = <architecture>, params = { ... } }"


@dataclasses.dataclass(frozen=True)
class _Any(Field):
    def check(self, value, where):
        return value

    def describe(self):
        return "any value"


_ANY = _Any()
