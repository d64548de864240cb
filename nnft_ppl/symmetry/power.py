"""Statistical power: the smallest symmetry breaking a test flags at a given ensemble size."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import NNFTError
from .._keys import as_key
from ._core import DEFAULT_ALPHA, SymmetryResult
from ._data import prior_ensemble
from ._deformed import deformed_ensemble
from ._models import VectorGaussNet
from ._registry import SYMMETRY_TESTS
from .invariance import internal_so_test, rotation_test, translation_test, z2_test


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


def _strengths(values, default) -> list[float]:
    return [float(v) for v in (default if values is None else values)]


def z2_power(
    n: int = 1500, key=None, kappa=None, lam: float = 2.4, width: int = 30, alpha: float = DEFAULT_ALPHA
) -> dict:
    """Z2 vs a phi^3 coupling: V = kappa phi^3/3! + lam phi^4/4! summed over the points (exact
    rejection-sampled CosNet ensembles, stabilising lam), d = 1."""
    from ..architectures import CosNet
    from ..deform import Phi3, Phi4

    key = as_key(0 if key is None else key)
    arch, x = CosNet(width=width, d=1), np.array([[0.2], [0.7], [1.3]])

    def run(s):
        return z2_test(deformed_ensemble(arch, x, n, key, Phi3(s) + Phi4(lam)), alpha=alpha)

    return smallest_detected(run, _strengths(kappa, [0.0, 0.3, 0.6, 1.2, 1.8]))


def rotation_power(n: int = 2000, key=None, eps=None, width: int = 30, alpha: float = DEFAULT_ALPHA) -> dict:
    """SO(2) rotations vs an anisotropic stretch: CosNet (d = 2) at x -> diag(1 + eps, 1) x (quarter turn)."""
    from ..architectures import CosNet

    key = as_key(0 if key is None else key)
    arch = CosNet(width=width, d=2)
    # points 2 apart along axis 2, a quarter turn turns their separation onto the stretched axis 1
    x = np.array([[0.0, 0.0], [0.0, 2.0]])
    rots = np.array([[[0.0, -1.0], [1.0, 0.0]]])
    run_jit = jax.jit(lambda e, keys, pts: arch.sample_fields(keys, pts * jnp.array([1.0 + e, 1.0])))

    def run(s):
        return rotation_test(lambda k, p: run_jit(s, k, p), x, rots, n, key, alpha=alpha)

    return smallest_detected(run, _strengths(eps, [0.0, 0.1, 0.2, 0.4, 0.8]))


def translation_power(n: int = 2000, key=None, eps=None, width: int = 30, alpha: float = DEFAULT_ALPHA) -> dict:
    """Translations vs CosNet + eps * ErfNet (independent networks; ErfNet is not translation invariant), d = 1.

    The breaking of G_2 is eps^2 times ErfNet's, so the grid reaches eps ~ 1.
    """
    from ..architectures import CosNet, ErfNet

    key = as_key(0 if key is None else key)
    cos, erf = CosNet(width=width, d=1), ErfNet(width=width, d=1)
    x, shifts = np.array([[0.2], [0.7], [1.3]]), np.array([[0.8], [-1.7]])

    def field(e, keys, pts):
        other = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
        return cos.sample_fields(keys, pts) + e * erf.sample_fields(other, pts)

    run_jit = jax.jit(field)

    def run(s):
        return translation_test(lambda k, p: run_jit(s, k, p), x, shifts, n, key, alpha=alpha)

    return smallest_detected(run, _strengths(eps, [0.0, 0.25, 0.5, 1.0, 2.0]))


def internal_so_power(n: int = 1000, key=None, mu=None, width: int = 20, alpha: float = DEFAULT_ALPHA) -> dict:
    """Internal SO(2) vs the last-layer mean mu of a VectorGaussNet (d = 1, two points)."""
    key = as_key(0 if key is None else key)
    x = np.array([[0.2], [0.7]])
    ka, kb = jax.random.split(key)

    def run(s):
        return internal_so_test(prior_ensemble(VectorGaussNet(width=width, n_out=2, mu=s), x, n, ka), kb, alpha=alpha)

    return smallest_detected(run, _strengths(mu, [0.0, 0.0025, 0.005, 0.01, 0.02, 0.05]))


def power_table(n: int | None = None, key=None, alpha: float = DEFAULT_ALPHA, grids: dict | None = None) -> list[dict]:
    """Every registered test's breaking-strength scan at a fixed ensemble size and key: one row per test
    that has a power scan (see `register_symmetry_test`).

    Each row: {"test", "breaking", "n", "alpha", "smallest", "scan"} where `scan` is the
    `smallest_detected` dict (strengths, statistic = max |z|, p_value, flagged). `grids`
    maps a test name to its strength grid; `n` (default: each scan's own) is shared.
    """
    key = as_key(0 if key is None else key)
    grids = dict(grids or {})
    unknown = set(grids) - {name for name, c in SYMMETRY_TESTS.items() if c.power is not None}
    if unknown:
        raise NNFTError(f"grids: no power scan for {sorted(unknown)}")
    rows = []
    scans = [c for c in SYMMETRY_TESTS.values() if c.power is not None]
    for i, check in enumerate(scans):
        scan = check.power(None if n is None else int(n), jax.random.fold_in(key, i), grids.get(check.name), alpha)
        rows.append(
            {
                "test": check.name,
                "breaking": check.breaking,
                "n": scan["n"],
                "alpha": alpha,
                "smallest": scan["smallest"],
                "scan": scan,
            }
        )
    return rows


def power_markdown(rows: list[dict]) -> str:
    """A Markdown table of `power_table` rows: smallest flagged strength and the scan per test."""
    lines = [
        "| test | breaking | n | alpha | smallest flagged | scan (strength: max abs z, flagged) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["scan"]
        scan = "; ".join(
            f"{v:g}: {z:.2f}{' *' if fl else ''}"
            for v, z, fl in zip(s["strengths"], s["statistic"], s["flagged"], strict=True)
        )
        lines.append(f"| {r['test']} | {r['breaking']} | {r['n']} | {r['alpha']:.2g} | {r['smallest']} | {scan} |")
    return "\n".join(lines)
