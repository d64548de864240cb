"""Analytic predictions: Wick (GP) correlators, exact finite-width cumulants, width scaling."""

from ._exact import exact_connected, exact_moment
from ._scaling import ScalingFit, fit_width_scaling
from ._wick import wick

__all__ = ["ScalingFit", "exact_connected", "exact_moment", "fit_width_scaling", "wick"]
