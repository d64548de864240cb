"""Gaussian (free-theory) correlators from a two-point function by Wick's theorem."""

from __future__ import annotations

import numpy as np
from jaxtyping import Array, Float

from .._combinatorics import pair_partitions
from .._errors import NNFTError

_LETTERS = "abcdefghijkl"


def wick(kernel: Float[Array, "P P"], order: int) -> np.ndarray:
    """G_GP^(n)(x_i1..x_in) = sum over pairings of products of K: the full (P,)*n tensor.

    Odd orders vanish.
    """
    k = np.asarray(kernel, np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise NNFTError(f"kernel: must be a square matrix, got shape {k.shape}")
    if order < 1 or order > 12:
        raise NNFTError(f"order: must be in 1..12, got {order}")
    p = k.shape[0]
    out = np.zeros((p,) * order)
    for pairing in pair_partitions(order):
        operands, subs = [], []
        for i, j in pairing:
            operands.append(k)
            subs.append(_LETTERS[i] + _LETTERS[j])
        out += np.einsum(",".join(subs) + "->" + _LETTERS[:order], *operands)
    return out
