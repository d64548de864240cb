"""Statistical power: the smallest symmetry breaking a test flags at a given ensemble size."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._errors import NNFTError
from ._core import SymmetryResult


def smallest_detected(run: Callable[[float], SymmetryResult], strengths: Sequence[float]) -> dict:
    """Run `run(strength)` over increasing strengths; report the first flagged one.

    Returns {"strengths", "statistic", "p_value", "flagged", "smallest"} where `smallest`
    is the first strength whose test fails (None if none does) — a scan, so the answer is
    resolved to the grid.
    """
    s = np.asarray(sorted(float(v) for v in strengths))
    if s.size == 0:
        raise NNFTError("strengths must not be empty")
    res = [run(float(v)) for v in s]
    flagged = np.array([not r.passed for r in res])
    first = int(np.argmax(flagged)) if flagged.any() else None
    return {
        "strengths": s,
        "statistic": np.array([r.statistic for r in res]),
        "p_value": np.array([r.p_value for r in res]),
        "flagged": flagged,
        "smallest": None if first is None else float(s[first]),
    }
