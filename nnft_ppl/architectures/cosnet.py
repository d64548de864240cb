"""CosNet: phi = sum_i a_i cos(w_i . x + b_i), translation invariant."""

from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
import numpy as np
import numpyro

from .. import _validate as V
from ._base import IIDNeuronArchitecture, normal, uniform
from ._single_layer_base import affine


class CosNet(IIDNeuronArchitecture):
    """a ~ N(0, sa^2/N), w ~ N(0, sw^2/d), b ~ U[-pi, pi]; no output bias.

    Kernel (sa^2/2) exp(-sw^2 |x-y|^2 / (2d)). Neuron moments in closed form:
    E[prod_j cos(w.x_j + b)] = 2^-K sum_{s in {+-1}^K, sum s = 0} exp(-sw^2 |sum_j s_j x_j|^2 / (2d)).
    """

    width: int = 100
    d: int = 1
    sw: float = 1.0
    sa: float = 1.0
    readout_site = "a"

    def __check_init__(self):
        V.field_integer("width", self.width)
        V.field_integer("d", self.d)
        V.positive("sw", self.sw)
        V.positive("sa", self.sa)

    @property
    def readout_std(self):
        return self.sa

    @property
    def bias_std(self):
        return 0.0

    def neuron_prior(self, dtype=None):
        w = numpyro.sample("w", normal(dtype, self.sw / math.sqrt(self.d)).expand([self.d]).to_event(1))
        b = numpyro.sample("b", uniform(dtype, -math.pi, math.pi))
        return {"w": w, "b": b}

    def features(self, hidden, x):
        return jnp.cos(affine(hidden["w"], x, hidden["b"]))

    def neuron_moment(self, x):
        k = x.shape[0]
        signs = np.array([s for s in itertools.product((1, -1), repeat=k) if sum(s) == 0], dtype=np.float64)
        if len(signs) == 0:
            return jnp.zeros((), x.dtype)
        y = jnp.asarray(signs) @ x  # (S, d)
        return jnp.sum(jnp.exp(-(self.sw**2) * jnp.sum(y * y, axis=-1) / (2 * self.d))) / 2**k
