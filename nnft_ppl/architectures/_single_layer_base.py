"""Abstract single-hidden-layer network phi(x) = b1 + sum_i W1_i sigma(W0_i . x + b0_i)
in the conventions of arXiv:2008.08601: W0 ~ N(0, sw^2/d), b0 ~ N(0, sb^2),
W1 ~ N(0, sw^2/N), b1 ~ N(0, sb^2)."""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpyro

from .. import _validate as V
from ._activations import Activation, gaussian_dual, gaussian_moment
from ._base import IIDNeuronArchitecture, normal


def affine(w, x, b):
    """w @ x.T + b[:, None] for w (N, d), x (P, d): elementwise for small d (a contraction
    of length d is slow as a batched dot on CPU), a matmul otherwise."""
    if w.shape[-1] <= 8:
        z = b[:, None] + w[:, None, 0] * x[None, :, 0]
        for k in range(1, w.shape[-1]):
            z = z + w[:, None, k] * x[None, :, k]
        return z
    return jnp.einsum("nd,pd->np", w, x, precision=jax.lax.Precision.HIGHEST) + b[:, None]


class AbstractSingleLayer(IIDNeuronArchitecture):
    width: eqx.AbstractVar[int]
    d: eqx.AbstractVar[int]
    sw: eqx.AbstractVar[float]
    sb: eqx.AbstractVar[float]

    def __check_init__(self):
        V.integer("width", self.width)
        V.integer("d", self.d)
        V.positive("sw", self.sw)
        V.positive("sb", self.sb)

    @property
    @abc.abstractmethod
    def act(self) -> Activation:
        """The activation and its Gaussian dual."""

    @property
    def readout_std(self) -> float:
        return self.sw

    @property
    def bias_std(self) -> float:
        return self.sb

    def neuron_prior(self, dtype=jnp.float64):
        w0 = numpyro.sample("W0", normal(dtype, self.sw / math.sqrt(self.d)).expand([self.d]).to_event(1))
        b0 = numpyro.sample("b0", normal(dtype, self.sb))
        return {"W0": w0, "b0": b0}

    def preactivation(self, hidden, x):
        return affine(hidden["W0"], x, hidden["b0"])

    def features(self, hidden, x):
        return self.act.fn(self.preactivation(hidden, x))

    def preactivation_cov(self, x):
        """Covariance of (W0 . x_j + b0)_j over points x (K, d)."""
        x = jnp.asarray(x)
        return self.sb**2 + self.sw**2 * (x @ x.T) / self.d

    def nngp_kernel(self, x1, x2):
        """The whole matrix in one broadcast when the kernel is the generic single-layer one
        with a closed-form dual (preactivation covariances as an outer product, the dual
        elementwise); pair by pair (`IIDNeuronArchitecture.nngp_kernel`) otherwise."""
        cls = type(self)
        generic = (
            cls.neuron_moment is AbstractSingleLayer.neuron_moment
            and cls.preactivation_cov is AbstractSingleLayer.preactivation_cov
        )
        if not generic or self.act.dual is None:
            return super().nngp_kernel(x1, x2)
        x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
        sb2, sw2 = self.sb**2, self.sw**2
        if x1.shape[1] > 8:
            dot = jnp.matmul(x1, x2.T, precision=jax.lax.Precision.HIGHEST)
        else:  # short contractions elementwise, as `affine` does
            dot = sum(x1[:, None, k] * x2[None, :, k] for k in range(x1.shape[1]))
        c = sb2 + sw2 * dot / self.d
        a1 = sb2 + sw2 * jnp.sum(x1 * x1, axis=1) / self.d
        a2 = a1 if x1 is x2 else sb2 + sw2 * jnp.sum(x2 * x2, axis=1) / self.d
        return self.bias_std**2 + self.readout_std**2 * self.act.dual(a1[:, None], c, a2[None, :])

    def neuron_moment(self, x):
        c = self.preactivation_cov(x)
        if x.shape[0] == 2:  # traceable closed form / fixed quadrature (the kernel, under jit and grad)
            return gaussian_dual(self.act, c[0, 0], c[0, 1], c[1, 1])
        return gaussian_moment(self.act.fn, c)
