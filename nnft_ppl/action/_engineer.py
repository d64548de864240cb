"""Engineering an action (seed section 3.3): the architecture parameter that realises a target local
quartic coupling lam*, found from the exact correlators and verified by sampling (`local_coupling` on
a measured ensemble)."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
from scipy import optimize

from .._errors import NNFTError
from ..architectures import Architecture, ExactCumulants
from ._correlators import exact_correlators
from ._local import local_coupling


class Engineered(NamedTuple):
    """`arch`: the architecture with `param` = `value`; `achieved`: its exact mean (unweighted over tuples) local
    coupling at `cutoff`, `target` the requested one (they differ only by the rounding of an integer
    parameter such as the width)."""

    arch: Architecture
    param: str
    value: float
    target: float
    achieved: float
    cutoff: float


def _coupling(arch, x, cutoff, tuples) -> float:
    return local_coupling(exact_correlators(arch, x, orders=(4,), full=False), arch, cutoff, tuples=tuples).mean


def engineer(
    arch: Architecture, x, target: float, cutoff: float, param: str, bracket: tuple[float, float], *, tuples=None
) -> Engineered:
    """The value of constructor parameter `param` within `bracket` at which the exact local coupling
    (unweighted mean over `tuples`, at `cutoff`) equals `target`; integer parameters (`width`) are
    rounded to the nearest integer after a continuous root find in log space."""
    if not isinstance(arch, ExactCumulants):
        raise NNFTError(f"arch: {arch.name} has no exact cumulants to engineer a coupling from")
    fields = {f.name: getattr(arch, f.name) for f in dataclasses.fields(arch) if f.init}
    if param not in fields:
        raise NNFTError(f"param: {arch.name} has no parameter {param!r} (has {sorted(fields)})")
    try:
        target = float(target)
        lo, hi = (float(b) for b in bracket)
    except (TypeError, ValueError):
        raise NNFTError("target and bracket must be numbers") from None
    if not np.isfinite(target) or not lo < hi:
        raise NNFTError(f"bracket must be (lo, hi) with lo < hi and target finite, got {bracket!r}, {target!r}")
    integer = isinstance(fields[param], (int, np.integer)) and not isinstance(fields[param], bool)

    def build(v):
        return type(arch)(**{**fields, param: int(round(v)) if integer else v})

    def f(v):
        return _coupling(build(np.exp(v) if integer else v), x, cutoff, tuples) - target

    a, b = (np.log(lo), np.log(hi)) if integer else (lo, hi)
    fa, fb = f(a), f(b)
    if np.sign(fa) == np.sign(fb):
        raise NNFTError(f"bracket: the coupling at {param} = {lo:g}, {hi:g} does not straddle target {target:g}")
    root = optimize.brentq(f, a, b, xtol=1e-8)
    value = float(round(np.exp(root)) if integer else root)
    best = build(value)
    return Engineered(best, param, value, target, _coupling(best, x, cutoff, tuples), float(cutoff))
