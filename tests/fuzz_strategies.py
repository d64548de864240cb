"""Shared pieces of the fuzz tests (`tests/test_fuzz*.py`): the property (finite results or
`NNFTError`), example budgets and the hypothesis strategies for bad and good inputs.

`NNFT_FUZZ_EXAMPLES` (default 1) scales every budget, `NNFT_FUZZ_RANDOM=1` draws fresh random
examples instead of the fixed seed, `NNFT_FUZZ_COUNT=<file>` appends one byte per call checked
(`benchmarks/fuzz.py` runs the full version)."""

from __future__ import annotations

import os
import warnings

import jax
import numpy as np
import xarray as xr
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from nnft_ppl import NNFTError
from nnft_ppl.architectures import REGISTRY, make_architecture

SCALE = float(os.environ.get("NNFT_FUZZ_EXAMPLES", "1"))
RANDOM = os.environ.get("NNFT_FUZZ_RANDOM", "") == "1"


def budget(n: int):
    """Hypothesis settings: n examples (scaled), fixed seed unless the full version asks otherwise."""
    return settings(
        max_examples=max(1, int(n * SCALE)),
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def count() -> None:
    """One more call checked (for the full version's report)."""
    path = os.environ.get("NNFT_FUZZ_COUNT")
    if path:
        with open(path, "a") as f:
            f.write(".")


def finite(obj) -> bool:
    """Every number in the result is finite (Datasets, trees, dicts, arrays, scalars)."""
    if isinstance(obj, xr.DataTree):
        return all(finite(node.to_dataset()) for node in obj.subtree)
    if isinstance(obj, xr.Dataset):
        return all(finite(v.values) for v in obj.data_vars.values())
    if isinstance(obj, dict):
        return all(finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(finite(v) for v in obj)
    if isinstance(obj, (jax.Array, np.ndarray, float, int, np.number)):
        arr = np.asarray(obj)
        if arr.dtype.kind in "fc":
            return bool(np.all(np.isfinite(arr)))
    return True


def returns_finite_or_nnft_error(fn, *args, **kw):
    """The property: finite results or `NNFTError`; anything else (a raw traceback, a NaN) fails."""
    count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(*args, **kw)
        except NNFTError:
            return None
    assert finite(out), f"{getattr(fn, '__name__', fn)} returned non-finite values"
    return out


# ---------------------------------------------------------------- strategies

BAD = st.sampled_from([None, "abc", -1, 0, float("nan"), float("inf"), -float("inf"), 1e200, 1e-300, [1, 2], True])
SCALES = st.one_of(st.floats(0.1, 3.0), BAD, st.floats(allow_nan=True, allow_infinity=True))
WIDTHS = st.one_of(st.integers(1, 6), st.sampled_from([0, -3, 3.0, 2.7, "4", 10**30, True, None]))
DIMS = st.one_of(st.just(1), st.integers(0, 3), st.sampled_from([1.0, "1", None]))


def _typed_key(i):
    return jax.random.key(i)


KEYS = st.one_of(
    st.integers(0, 2**31),
    st.sampled_from([2**70, -(2**70), -1, 2**64, "0", 1.5, None, True]),
    st.integers(0, 9).map(_typed_key),
    st.integers(0, 9).map(lambda i: jax.random.split(jax.random.key(i), 3)),
    st.integers(0, 9).map(lambda i: jax.random.key_data(jax.random.key(i))),
)


@st.composite
def points(draw, d=None, max_p=4):
    """Mostly valid (P, d) points in [-2, 2]; sometimes NaN, complex, ragged, empty, strings, 3-D."""
    d = d if d is not None else draw(st.integers(1, 2))
    p = draw(st.integers(1, max_p))
    x = np.asarray(draw(st.lists(st.floats(-2, 2), min_size=p * d, max_size=p * d))).reshape(p, d)
    kind = draw(st.sampled_from(["ok"] * 6 + ["1d", "nan", "complex", "empty", "str", "3d", "list", "huge"]))
    if kind == "1d":
        return x[:, 0]
    if kind == "nan":
        return np.where(np.arange(x.size).reshape(x.shape) == 0, np.nan, x)
    if kind == "complex":
        return x + 1j
    if kind == "empty":
        return np.zeros((0, d))
    if kind == "str":
        return "oops"
    if kind == "3d":
        return x[None]
    if kind == "list":
        return x.tolist()
    if kind == "huge":
        return x * 1e300
    return x


@st.composite
def architectures(draw):
    """A zoo architecture from the registry with fuzzed width, d and scales (or the bad-input error)."""
    name = draw(st.sampled_from(sorted(REGISTRY)))
    cls = REGISTRY[name]
    params = {"width": draw(WIDTHS), "d": draw(DIMS)}
    for f in ("sw", "sb", "sa"):
        if f in cls.__dataclass_fields__ and draw(st.booleans()):
            params[f] = draw(SCALES)
    if draw(st.integers(0, 9)) == 0:
        params["nonsense"] = 1.0
    return name, params


def build(name, params):
    """make_architecture, or None when it (correctly) refuses the parameters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return make_architecture(name, **params)
        except NNFTError:
            return None


@st.composite
def targets(draw, n=8):
    kind = draw(st.sampled_from(["ok", "ok", "ok", "constant", "huge", "tiny", "nan", "short", "str", "2d"]))
    y = np.asarray(draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    return {
        "ok": y,
        "constant": np.full(n, 2.5),
        "huge": 1e8 * y,
        "tiny": 1e-12 * y,
        "nan": np.r_[np.nan, y[1:]],
        "short": y[:3],
        "str": "y",
        "2d": np.stack([y, y], 1),
    }[kind]


def one_bad(draw, good: dict, bad: dict) -> dict:
    """`good` with exactly one argument replaced by a bad value (so no sampling runs)."""
    k = draw(st.sampled_from(sorted(bad)))
    return {**good, k: draw(bad[k])}
