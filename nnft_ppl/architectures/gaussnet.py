"""GaussNet: exponential activation normalised so the kernel is translation invariant."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._tails import lognormal_khat
from ._activations import Activation
from ._loglinear import LogLinearNeurons
from ._single_layer_base import AbstractSingleLayer


class GaussNet(AbstractSingleLayer, LogLinearNeurons):
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

    def neuron_moment_error(self, x):
        return 0.0  # closed form

    def neuron_dual(self, a, c, b):
        """E[h h'] = exp(c - (a + b) / 2): the normalised exponential's dual, elementwise."""
        return jnp.exp(c - 0.5 * (a + b))

    def preactivation_var(self, x) -> np.ndarray:
        """v(x) = sb^2 + sw^2 |x|^2 / d, the variance of the pre-activation at each point."""
        x = np.asarray(x, np.float64)
        return self.sb**2 + self.sw**2 * np.sum(x * x, axis=-1) / self.d

    def loglinear_cov(self):
        return np.diag(np.r_[np.full(self.d, self.sw**2 / self.d), self.sb**2])

    def loglinear_design(self, x):
        x = np.asarray(x, np.float64)
        return np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)

    def loglinear_offset(self, x):
        return self.preactivation_var(x)

    def predicted_khat(self, x, orders, n):
        """The neuron summand h(x)^r = exp(r (z - v)), z ~ N(0, v), is lognormal with log-sd
        r sqrt(v(x)), v(x) = sb^2 + sw^2 |x|^2 / d; its k-hat at n draws is
        `nnft_ppl._tails.lognormal_khat` (calibrated by simulation). Network-level summands at
        width N are lighter (about 0.75x this k at N = 10), so this is an upper estimate there.
        Orders r with r sqrt(v) >~ 2 (k > 0.5 at n = 1e6) have unreliable error bars."""
        sd = np.sqrt(self.preactivation_var(x))
        return {int(r): lognormal_khat(int(r) * sd, n) for r in orders}
