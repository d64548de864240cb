"""Exact finite-width correlators of architectures with independent neurons.

For i.i.d. neurons (seed eq. 2.28 generalised): kappa_r(phi) = N^(1-r/2) s^r kappa_r(w h)
for r >= 3, with kappa_r(w h) built from the neuron moments E[h...h] and the moments
Xi_k of the standard-normal readout weight. For fixed linear features:
kappa_r(phi) = kappa_r(w) sum_i prod_j f_i(x_j).
"""

from __future__ import annotations

import itertools

import numpy as np
from jaxtyping import Array, Float

from .._combinatorics import GAUSS_XI, cumulant_from_moments
from .._errors import NNFTError
from .._tensors import expand
from ..architectures import Architecture, IIDNeuronArchitecture, LinearFeatures


def exact_connected(arch: Architecture, x: Float[Array, "P d"], order: int = 4, width: int | None = None) -> np.ndarray:
    """The exact connected r-point function at finite width, as a full (P,)*r tensor.

    `width` overrides the architecture's own (the result scales as N^(1 - r/2)).
    """
    if order < 2 or order > 6:
        raise NNFTError(f"order: exact connected functions are available for orders 2..6, got {order}")
    x = arch.check_points(x)
    p = x.shape[0]
    tuples = list(itertools.combinations_with_replacement(range(p), order))
    if isinstance(arch, IIDNeuronArchitecture):
        n = arch.width if width is None else width
        table = arch.neuron_moments_table(x)
        s, b = arch.readout_std, arch.bias_std

        def kappa_u(t):
            return cumulant_from_moments(order, lambda blk: GAUSS_XI[len(blk)] * table(tuple(t[i] for i in blk)))

        vals = np.asarray([kappa_u(t) for t in tuples])
        vals = b**2 + s**2 * vals if order == 2 else n ** (1 - order / 2) * s**order * vals
    elif isinstance(arch, LinearFeatures):
        f = np.asarray(arch.feature_map(x))  # (N, P)
        if width is not None and width != arch.width:
            raise NNFTError("width: LinearFeatures has a fixed feature set; build it at the width you want")
        kw = arch.weight_cumulant(order)
        vals = np.asarray([kw * np.sum(np.prod(f[:, list(t)], axis=1)) for t in tuples])
    else:
        raise NNFTError(f"arch: {type(arch).__name__} has no exact finite-width cumulants (dependent neurons)")
    return expand(vals, p, order, {t: i for i, t in enumerate(tuples)})


def exact_moment(arch: Architecture, x, order: int = 4, width: int | None = None) -> np.ndarray:
    """The exact full r-point function G_r (sum over set partitions of connected parts)."""
    from .._combinatorics import set_partitions

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
