"""Single-hidden-layer networks phi = b1 + W1 . sigma(W0 x + b0) (arXiv:2008.08601: W0 ~ N(0, sw^2/d), b0 ~ N(0, sb^2),
W1 ~ N(0, sw^2/N), b1 ~ N(0, sb^2))."""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpyro

from .. import _validate as V
from ._activations import Activation, elementwise_dual, gaussian_dual, gaussian_moment
from ._base import IIDNeuronArchitecture, compiled_kernel, normal
from ._recursion import serial_kernel


def affine(w, x, b):
    """w @ x.T + b[:, None] for w (N, d), x (P, d): elementwise for small d (a contraction
    of length d is slow as a batched dot on CPU), a matmul otherwise."""
    if w.shape[-1] <= 8:
        z = b[:, None] + w[:, None, 0] * x[None, :, 0]
        for k in range(1, w.shape[-1]):
            z = z + w[:, None, k] * x[None, :, k]
        return z
    return jnp.einsum("nd,pd->np", w, x, precision=jax.lax.Precision.HIGHEST) + b[:, None]


def _one_layer_kernel(arch, x1, x2):
    return serial_kernel(x1, x2, arch.neuron_dual, arch.sw, arch.sb, depth=1)


class AbstractSingleLayer(IIDNeuronArchitecture):
    width: eqx.AbstractVar[int]
    d: eqx.AbstractVar[int]
    sw: eqx.AbstractVar[float]
    sb: eqx.AbstractVar[float]

    def __check_init__(self):
        V.field_integer("width", self.width)
        V.field_integer("d", self.d)
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

    def neuron_prior(self, dtype=None):
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

    def neuron_dual(self, a, c, b):
        """E[h h'] for one neuron at two points with pre-activation covariance [[a, c], [c, b]],
        elementwise on broadcast arrays (the activation's dual)."""
        return elementwise_dual(self.act)(a, c, b)

    def kernel(self, x1, x2):
        """The whole matrix in one broadcast: the layer recursion of `_recursion` with one
        hidden layer and this neuron's dual."""
        return compiled_kernel(self, x1, x2, _one_layer_kernel)

    def neuron_moment(self, x):
        c = self.preactivation_cov(x)
        if x.shape[0] == 2:  # traceable closed form / fixed quadrature (the kernel, under jit and grad)
            return gaussian_dual(self.act, c[0, 0], c[0, 1], c[1, 1])
        return gaussian_moment(self.act.fn, c)

    def neuron_moment_error(self, x):
        """0 for a closed-form dual at two points; the tensor quadrature's error estimate otherwise
        (`gaussian_moment`)."""
        if x.shape[0] == 2 and self.act.dual is not None:
            return 0.0
        return gaussian_moment(self.act.fn, self.preactivation_cov(x), with_error=True)[1]
