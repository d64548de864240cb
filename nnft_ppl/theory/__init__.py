"""Analytic predictions: Wick (GP) correlators, exact finite-width cumulants, width scaling."""

from ._exact import exact_connected, exact_moment
from ._leading import leading_connected
from ._scaling import AmplitudeCheck, ScalingFit, amplitude_check, fit_width_scaling
from ._wick import wick

__all__ = [
    "AmplitudeCheck",
    "ScalingFit",
    "amplitude_check",
    "exact_connected",
    "exact_moment",
    "fit_width_scaling",
    "leading_connected",
    "wick",
]
