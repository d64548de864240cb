"""DeepMLP: `depth` hidden layers of width N; kernel by the layer recursion."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpyro

from .. import _validate as V
from ._activations import Activation, gaussian_dual, get_activation
from ._base import Architecture, normal


class DeepMLP(Architecture):
    """z^1 = W^0 x + b^0; z^{l+1} = W^l sigma(z^l) + b^l; phi = z^{depth+1}.

    W^0 ~ N(0, sw^2/d), W^l ~ N(0, sw^2/N), b ~ N(0, sb^2). The NNGP kernel is the
    recursion K^{l+1} = sb^2 + sw^2 E[sigma(u) sigma(v)], (u, v) ~ N(0, K^l). For
    depth >= 2 the finite-width G2 carries an O(1/N) correction to this kernel.
    """

    depth: int = 2
    activation: str | Callable = eqx.field(default="relu", static=True)
    width: int = 100
    d: int = 1
    sw: float = 1.0
    sb: float = 1.0

    def __check_init__(self):
        V.integer("depth", self.depth)
        V.integer("width", self.width)
        V.integer("d", self.d)
        V.positive("sw", self.sw)
        V.positive("sb", self.sb)
        get_activation(self.activation)

    @property
    def exact_two_point(self) -> bool:  # type: ignore[override]
        return self.depth == 1

    @property
    def act(self) -> Activation:
        return get_activation(self.activation)

    def params(self):
        out = super().params()
        out["activation"] = self.act.name
        return out

    def prior(self, x=None, dtype=jnp.float64):
        theta = {}
        fan_in = self.d
        for layer in range(self.depth + 1):
            n_out = 1 if layer == self.depth else self.width
            theta[f"W{layer}"] = numpyro.sample(
                f"W{layer}", normal(dtype, self.sw / math.sqrt(fan_in)).expand([n_out, fan_in]).to_event(2)
            )
            theta[f"b{layer}"] = numpyro.sample(f"b{layer}", normal(dtype, self.sb).expand([n_out]).to_event(1))
            fan_in = self.width
        if x is None:
            return None
        return numpyro.deterministic("phi", self.apply(theta, jnp.asarray(x, dtype)))

    def apply(self, theta, x):
        hp = jax.lax.Precision.HIGHEST
        z = jnp.einsum("nd,pd->pn", theta["W0"], x, precision=hp) + theta["b0"]
        for layer in range(1, self.depth + 1):
            z = jnp.einsum("mn,pn->pm", theta[f"W{layer}"], self.act.fn(z), precision=hp) + theta[f"b{layer}"]
        return z[:, 0]

    def nngp_kernel(self, x1, x2):
        x1, x2 = jnp.asarray(x1), jnp.asarray(x2)

        def k(a, b):
            kab = self.sb**2 + self.sw**2 * jnp.dot(a, b) / self.d
            kaa = self.sb**2 + self.sw**2 * jnp.dot(a, a) / self.d
            kbb = self.sb**2 + self.sw**2 * jnp.dot(b, b) / self.d
            for _ in range(self.depth):
                f = lambda p, q, r: self.sb**2 + self.sw**2 * gaussian_dual(self.act, p, q, r)  # noqa: E731
                kaa, kab, kbb = f(kaa, kaa, kaa), f(kaa, kab, kbb), f(kbb, kbb, kbb)
            return kab

        return jax.vmap(jax.vmap(k, (None, 0)), (0, None))(x1, x2)
