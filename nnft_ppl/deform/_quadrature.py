"""Quadrature rules for the spacetime integral S_int = integral_box d^dx V(phi(x)) on a box in d = 1, 2, 3."""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from .._errors import NNFTError

RULES = ("gauss-legendre", "trapezoid")


class Quadrature(NamedTuple):
    """Points (Q, d) and weights (Q,) with sum_q w_q f(z_q) ≈ integral_box f; `box` is ((lo, hi),) * d."""

    points: np.ndarray
    weights: np.ndarray
    rule: str
    box: tuple
    n: int

    @property
    def d(self) -> int:
        return self.points.shape[1]

    def metadata(self) -> dict:
        return {
            "quadrature_rule": self.rule,
            "quadrature_n_per_dim": self.n,
            "quadrature_points": int(self.points.shape[0]),
            "box": str([list(b) for b in self.box]),
            "d": self.d,
        }


def _rule_1d(rule: str, n: int, lo: float, hi: float):
    if rule == "gauss-legendre":
        z, w = np.polynomial.legendre.leggauss(n)
        return lo + (z + 1.0) * (hi - lo) / 2.0, w * (hi - lo) / 2.0
    z = np.linspace(lo, hi, n)
    w = np.full(n, (hi - lo) / (n - 1))
    w[0] = w[-1] = w[0] / 2.0
    return z, w


def make_quadrature(box, n: int = 8, rule: str = "gauss-legendre", d: int | None = None) -> Quadrature:
    """A tensor-product rule with `n` points per dimension on `box`.

    `box` is (lo, hi) (the same interval in every one of `d` dimensions, default d = 1) or a
    sequence of d intervals. `rule` is "gauss-legendre" or "trapezoid" (n >= 2).
    """
    if rule not in RULES:
        raise NNFTError(f"rule must be one of {RULES}, got {rule!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or (rule == "trapezoid" and n < 2):
        raise NNFTError(f"n must be an integer >= {2 if rule == 'trapezoid' else 1}, got {n!r}")
    try:
        b = np.asarray(box, dtype=np.float64)
    except (TypeError, ValueError):
        raise NNFTError(f"box must be (lo, hi) or a list of d (lo, hi) pairs, got {box!r}") from None
    if b.ndim == 1:
        if b.shape != (2,):
            raise NNFTError(f"box must be (lo, hi) or a list of d (lo, hi) pairs, got {box!r}")
        dd = 1 if d is None else d
        if isinstance(dd, bool) or not isinstance(dd, (int, np.integer)) or dd not in (1, 2, 3):
            raise NNFTError(f"d must be 1, 2 or 3, got {d!r}")
        b = np.tile(b, (dd, 1))
    elif b.ndim != 2 or b.shape[1] != 2:
        raise NNFTError(f"box must be (lo, hi) or a list of d (lo, hi) pairs, got {box!r}")
    if b.shape[0] not in (1, 2, 3):
        raise NNFTError(f"d must be 1, 2 or 3, got a box with {b.shape[0]} dimensions")
    if d is not None and d != b.shape[0]:
        raise NNFTError(f"d = {d!r} does not match the box's {b.shape[0]} dimensions")
    if not np.all(np.isfinite(b)) or np.any(b[:, 1] <= b[:, 0]):
        raise NNFTError(f"box must have finite intervals with lo < hi, got {box!r}")
    rules = [_rule_1d(rule, int(n), lo, hi) for lo, hi in b]
    pts = np.array(list(itertools.product(*[r[0] for r in rules])), dtype=np.float64)
    wts = np.array([math.prod(ws) for ws in itertools.product(*[r[1] for r in rules])], dtype=np.float64)
    return Quadrature(pts, wts, rule, tuple((float(lo), float(hi)) for lo, hi in b), int(n))
