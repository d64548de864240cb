"""The input of every action analysis: an ensemble's correlators over sorted index tuples, with
their delete-one-block jackknife replicas, labelled by the architecture and points they belong to.

Exact correlators (`exact_correlators`) carry replicas equal to the value (zero error), so the same
pipeline runs on exact and on Monte Carlo input; Monte Carlo ones (`measure`, `from_sums`) carry
the ensemble estimator's B leave-one-block-out replicas, and every derived quantity is computed on
each replica (jackknife through the whole pipeline).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Array, Float

from .._errors import NNFTError
from .._tensors import sorted_tuples
from .._x64 import float64
from ..architectures import Architecture, LinearReadout
from ..ensemble import Estimate, cumulants, ensemble_correlators, moments
from ..stats import jackknife_se
from ..theory import exact_connected, exact_moment


class Correlators(NamedTuple):
    """Connected (`connected[r]`) and full (`full[r]`) r-point functions of one ensemble at points
    `x` (P, d), each an `Estimate` over `sorted_tuples(P, r)` (value (T,), replicas (B, T));
    `architecture`/`params` name the ensemble, `source` is "exact" or the estimator's name; `khat`
    the Pareto k-hat of each order's summands (Monte Carlo input; > 0.5: the SEs are unreliable)."""

    architecture: str
    params: dict
    x: np.ndarray
    connected: dict[int, Estimate]
    full: dict[int, Estimate]
    source: str
    khat: dict | None = None

    @property
    def n_blocks(self) -> int:
        return next(iter(self.connected.values())).replicas.shape[0]

    @property
    def exact(self) -> bool:
        return self.source == "exact"

    def index(self, order: int) -> dict[tuple[int, ...], int]:
        """Position of each sorted index tuple of `order` in the estimates."""
        return {t: i for i, t in enumerate(sorted_tuples(self.x.shape[0], order))}

    def connected_at(self, order: int) -> Estimate:
        if order not in self.connected:
            raise NNFTError(f"correlators: no connected {order}-point function (have {sorted(self.connected)})")
        return self.connected[order]

    def full_at(self, order: int) -> Estimate:
        if order not in self.full:
            raise NNFTError(f"correlators: no full {order}-point function (have {sorted(self.full)})")
        return self.full[order]

    def check_against(self, arch: Architecture, x=None) -> np.ndarray:
        """These correlators' points, after checking they belong to `arch` (same class and
        parameters) and, when given, to the points `x`; a mismatch is an `NNFTError`."""
        if not isinstance(arch, Architecture):
            raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
        if arch.name != self.architecture or arch.params() != self.params:
            raise NNFTError(
                f"correlators: measured on {self.architecture}{self.params}, "
                f"not on the kernel's architecture {arch.name}{arch.params()}"
            )
        if x is not None:
            xx = arch.check_points(x)
            if xx.shape != self.x.shape or not np.allclose(xx, self.x, rtol=0, atol=1e-12):
                raise NNFTError("correlators: measured at other points than x (the kernel's points)")
        return self.x


def _exact_estimate(value: np.ndarray, n_blocks: int) -> Estimate:
    return Estimate(value, np.broadcast_to(value, (n_blocks, *value.shape)).copy())


@float64
def exact_correlators(
    arch: Architecture, x: Float[Array, "P d"], orders=(4, 6), n_blocks: int = 8, full: bool = True
) -> Correlators:
    """The architecture's exact finite-width correlators (`nnft_ppl.theory`), as `Correlators` with
    zero-error replicas (needs the `ExactCumulants` capability); `full=False` skips the full moments
    (the local coupling needs only the connected ones)."""
    x = arch.check_points(x)
    p = x.shape[0]
    conn, moments = {}, {}
    for r in (2, *orders):
        tl = np.asarray(sorted_tuples(p, r)).T
        conn[r] = _exact_estimate(np.asarray(exact_connected(arch, x, r))[tuple(tl)], n_blocks)
        if full:
            moments[r] = _exact_estimate(np.asarray(exact_moment(arch, x, r))[tuple(tl)], n_blocks)
    return Correlators(arch.name, arch.params(), x, conn, moments, "exact")


def from_sums(arch: Architecture, x: Float[Array, "P d"], ms, orders=(4, 6), source: str = "network") -> Correlators:
    """`Correlators` from an ensemble estimator's block sums (`ensemble_correlators(...,
    return_sums=True)`): unbiased connected and full moments with their jackknife replicas."""
    x = arch.check_points(x)
    p = x.shape[0]
    conn, full = {}, {}
    for r in (2, *orders):
        tl = sorted_tuples(p, r)
        conn[r] = cumulants(ms, tl)
        full[r] = moments(ms, tl)
    return Correlators(arch.name, arch.params(), x, conn, full, source, dict(getattr(ms, "khat", None) or {}))


@float64
def measure(
    arch: Architecture,
    x: Float[Array, "P d"],
    n_nets: int,
    key=0,
    *,
    orders=(4, 6),
    n_blocks: int = 64,
    collapse: bool | None = None,
    **kw,
) -> Correlators:
    """Sample `n_nets` networks (`nnft_ppl.ensemble.ensemble_correlators`) and return their
    correlators with jackknife replicas; the Dataset's tail diagnostics are in `.khat` of the
    estimator's output (pass `progress=False` etc. through `kw`). `collapse` (None: wherever the
    architecture has a Gaussian readout, `LinearReadout`) integrates the readout out exactly: the
    amputations divide by small connected functions, which this estimator resolves with far smaller,
    honest errors (sixth-order summands of k-hat ~0.15 instead of ~0.6;
    benchmarks/action_sixpoint_se.py)."""
    max_order = max(orders)
    collapse = isinstance(arch, LinearReadout) if collapse is None else bool(collapse)
    kw.update(max_order=max_order, n_blocks=n_blocks, return_sums=True, collapse=collapse)
    _, ms = ensemble_correlators(arch, x, n_nets, key, **kw)
    return from_sums(arch, x, ms, orders, "network (readout integrated)" if collapse else "network")


def jackknife_cov(replicas: np.ndarray) -> np.ndarray:
    """Delete-one-block jackknife covariance of a vector estimate from its (B, T) replicas."""
    r = np.asarray(replicas, np.float64)
    dev = r - r.mean(0, keepdims=True)
    return (r.shape[0] - 1) / r.shape[0] * dev.T @ dev


def se_of(replicas: np.ndarray) -> np.ndarray:
    """The jackknife SE from replicas (zero for exact input)."""
    return jackknife_se(replicas)
