"""GaussNet: exponential activation normalised so the kernel is translation invariant."""

from __future__ import annotations

import jax.numpy as jnp

from ._activations import Activation
from ._single_layer_base import AbstractSingleLayer


class GaussNet(AbstractSingleLayer):
    """phi = b1 + W1 . exp(W0 x + b0 - (sb^2 + sw^2 |x|^2 / d)).

    Kernel sb^2 + sw^2 exp(-sw^2 |x - y|^2 / (2 d)); every neuron moment is closed form:
    E[prod_j h(x_j)] = exp(sum_{jk} C_jk / 2 - sum_j C_jj), C the pre-activation covariance.
    """

    width: int = 100
    d: int = 1
    sw: float = 1.0
    sb: float = 1.0

    @property
    def act(self):
        return Activation("exp", jnp.exp, None)

    def features(self, hidden, x):
        norm = self.sb**2 + self.sw**2 * jnp.sum(x * x, axis=-1) / self.d
        return jnp.exp(self.preactivation(hidden, x) - norm[None, :])

    def neuron_moment(self, x):
        c = self.preactivation_cov(x)
        return jnp.exp(0.5 * jnp.sum(c) - jnp.trace(c))
