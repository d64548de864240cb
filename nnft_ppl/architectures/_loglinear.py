"""Capability: neurons that are the exponential of a Gaussian-linear pre-activation.

h(theta; x) = exp(theta . u(x) - c(x)) with theta ~ N(0, Sigma). Every neuron moment is then
a Gaussian integral, and exponential tilting of the theta draw is exact: the neuron-level
estimator uses it (`nnft_ppl.ensemble.neuron_correlators`) to make high orders cheap.
"""

from __future__ import annotations

import abc

import equinox as eqx
import numpy as np
from jaxtyping import Array, Float


class LogLinearNeurons(eqx.Module):
    """Declared by an i.i.d.-neuron architecture whose neuron is h = exp(theta . u(x) - c(x)),
    theta ~ N(0, `loglinear_cov()`): a capability, no fields."""

    @abc.abstractmethod
    def loglinear_cov(self) -> Float[np.ndarray, "D D"]:
        """Sigma, the covariance of the neuron's Gaussian parameters theta."""

    @abc.abstractmethod
    def loglinear_design(self, x: Float[Array, "P d"]) -> Float[np.ndarray, "P D"]:
        """u(x): the pre-activation at x is theta . u(x)."""

    @abc.abstractmethod
    def loglinear_offset(self, x: Float[Array, "P d"]) -> Float[np.ndarray, " P"]:
        """c(x): h(x) = exp(theta . u(x) - c(x))."""
