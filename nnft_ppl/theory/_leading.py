"""Connected correlators known to leading order in 1/N (`LeadingOrderCumulants`): deep networks.

Kept apart from `exact_connected` on purpose: these are asymptotic (their error is O(1/N^2) beside
the quadrature's), so nothing that trusts exact cumulants (calibration, exact verdicts) uses them.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Array, Float

from .. import _validate as _V
from .._errors import NNFTError, NNFTNumericalError
from .._x64 import float64
from ..architectures import Architecture, LeadingOrderCumulants


@float64
def leading_connected(arch: Architecture, x: Float[Array, "P d"], width: int | None = None, return_error: bool = False):
    """The connected four-point function G4c (P, P, P, P) to leading order in 1/N at `width`
    (default the architecture's own); with `return_error`, also the absolute numerical error of
    that leading term (quadrature), which does not include the neglected O(1/N^2)."""
    width = None if width is None else _V.integer("width", width)
    if not isinstance(arch, LeadingOrderCumulants):
        raise NNFTError(f"arch: {type(arch).__name__} has no leading-order four-point function")
    vals, errs = arch.leading_connected4(arch.check_points(x), width)
    if not (np.all(np.isfinite(vals)) and np.all(np.isfinite(errs))):
        raise NNFTNumericalError(f"leading_connected: the four-point vertex of {arch.name} overflows at these points")
    return (vals, errs) if return_error else vals
