"""Exact finite-width correlators of architectures with the `ExactCumulants` capability.

For i.i.d. neurons (seed eq. 2.28 generalised): kappa_r(phi) = N^(1-r/2) s^r kappa_r(w h)
for r >= 3, with kappa_r(w h) built from the neuron moments E[h...h] and the moments
Xi_k of the standard-normal readout weight. For fixed linear features:
kappa_r(phi) = kappa_r(w) sum_i prod_j f_i(x_j). Each architecture computes its own
values (`ExactCumulants.exact_connected_values`); this module validates and assembles tensors.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Array, Float

from .. import _validate as _V
from .._combinatorics import set_partitions
from .._errors import NNFTError, NNFTNumericalError
from .._tensors import expand, sorted_tuples
from ..architectures import Architecture, ExactCumulants


def exact_connected(
    arch: Architecture, x: Float[Array, "P d"], order: int = 4, width: int | None = None, return_error: bool = False
):
    """The exact connected r-point function at finite width, as a full (P,)*r tensor.

    `width` overrides the architecture's own (the result scales as N^(1 - r/2)). With
    `return_error`, also the tensor of absolute numerical errors: zero for closed forms; for
    moments by Gauss-Hermite quadrature (ErfNet, ReLUNet, SingleLayer at orders > 2) the
    quadrature's error estimate, to be added in quadrature to a Monte Carlo SE when comparing.
    """
    order = _V.integer("order", order)
    if order < 2 or order > 6:
        raise NNFTError(f"order: exact connected functions are available for orders 2..6, got {order}")
    _check_exact(arch)
    x = arch.check_points(x)
    p = x.shape[0]
    vals, errs = exact_connected_at(arch, x, sorted_tuples(p, order), width)
    full = expand(vals, p, order)
    return (full, expand(errs, p, order)) if return_error else full


def exact_connected_at(arch: Architecture, x: Float[Array, "P d"], tuples, width: int | None = None):
    """The exact connected function at index tuples of the points x (a (T, r) integer array, r in
    2..6, any order within a tuple) and its absolute numerical error, as two (T,) arrays: the entries
    of `exact_connected`'s tensors without forming them."""
    _check_exact(arch)
    x = arch.check_points(x)
    width = None if width is None else _V.integer("width", width)
    arr = np.asarray(tuples)
    if arr.ndim != 2 or arr.dtype.kind not in "iu" or not 2 <= arr.shape[1] <= 6:
        raise NNFTError(f"tuples: a (T, r) array of point indices with r in 2..6, got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= x.shape[0]):
        raise NNFTError(f"tuples: point indices must lie in 0..{x.shape[0] - 1}")
    order = arr.shape[1]
    tuples = [tuple(t) for t in np.sort(arr, axis=1).tolist()]
    vals, errs = arch.exact_connected_values(x, tuples, width)
    if not (np.all(np.isfinite(vals)) and np.all(np.isfinite(errs))):
        raise NNFTNumericalError(
            f"exact_connected: the order-{order} cumulants of {arch.name} overflow at these points "
            "(neuron moments beyond float64); use smaller inputs or scales"
        )
    return np.asarray(vals, np.float64), np.asarray(errs, np.float64)


def _check_exact(arch) -> None:
    if not isinstance(arch, ExactCumulants):
        raise NNFTError(f"arch: {type(arch).__name__} has no exact finite-width cumulants (dependent neurons)")


def exact_moment(arch: Architecture, x, order: int = 4, width: int | None = None) -> np.ndarray:
    """The exact full r-point function G_r (sum over set partitions of connected parts)."""
    x = arch.check_points(x)
    p = x.shape[0]
    conn = {k: exact_connected(arch, x, k, width) for k in range(2, order + 1, 2)}
    out = np.zeros((p,) * order)
    letters = "abcdefghijkl"
    for part in set_partitions(order):
        if any(len(b) % 2 for b in part):
            continue  # odd cumulants vanish for these (Z2-symmetric) ensembles
        subs = ",".join("".join(letters[i] for i in b) for b in part)
        out += np.einsum(subs + "->" + letters[:order], *[conn[len(b)] for b in part])
    return out
