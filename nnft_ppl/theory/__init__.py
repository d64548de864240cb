"""Analytic predictions: Wick (GP) correlators, exact finite-width cumulants, width scaling."""

from ._exact import exact_connected, exact_connected_at, exact_moment
from ._leading import leading_connected
from ._scaling import AmplitudeCheck, ScalingFit, amplitude_check, fit_width_scaling
from ._wick import wick

__all__ = [
    "AmplitudeCheck",
    "ScalingFit",
    "amplitude_check",
    "exact_connected",
    "exact_connected_at",
    "exact_moment",
    "fit_width_scaling",
    "leading_connected",
    "wick",
]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
