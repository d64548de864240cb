"""DeepMLP: `depth` hidden layers of width N; kernel by the layer recursion."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError
from ._activations import Activation, elementwise_dual, gaussian_moment, get_activation
from ._base import LinearReadout, Theta, _nonzero, compiled_kernel, normal
from ._four_point import LeadingOrderCumulants, deep_vertex
from ._recursion import input_layer, serial_kernel


class DeepMLP(LeadingOrderCumulants, LinearReadout):
    """z^1 = W^0 x + b^0; z^{l+1} = W^l sigma(z^l) + b^l; phi = z^{depth+1}.

    W^0 ~ N(0, sw^2/d), W^l ~ N(0, sw^2/N), b ~ N(0, sb^2) (sb = 0 allowed: no biases, e.g.
    the critical ReLU network sw^2 = 2). The NNGP kernel is the recursion
    K^{l+1} = sb^2 + sw^2 E[sigma(u) sigma(v)], (u, v) ~ N(0, K^l). For depth >= 2 the
    finite-width G2 carries an O(1/N) correction to this kernel; the connected four-point
    function is known to leading order in 1/N (`leading_connected4`, the four-point vertex
    recursion of Roberts, Yaida & Hanin, arXiv:2106.10165, ch. 4), exactly at depth 1.
    """

    depth: int = 2
    activation: str | Callable = eqx.field(default="relu", static=True)
    width: int = 100
    d: int = 1
    sw: float = 1.0
    sb: float = 1.0
    zoo_test_params = {"width": 64, "depth": 2}

    def __check_init__(self):
        V.integer("depth", self.depth)
        V.field_integer("width", self.width)
        V.field_integer("d", self.d)
        V.positive("sw", self.sw)
        V.nonnegative("sb", self.sb)
        get_activation(self.activation)

    @property
    def exact_two_point(self) -> bool:  # type: ignore[override]
        return self.depth == 1

    @property
    def act(self) -> Activation:
        return get_activation(self.activation)

    # ---- LinearReadout: the hidden layers, then a Gaussian readout W^depth ~ N(0, sw^2/N) -------
    @property
    def readout_std(self) -> float:
        return self.sw

    @property
    def bias_std(self) -> float:
        return self.sb

    def _layer(self, layer: int, n_out: int, fan_in: int, dtype) -> Theta:
        w = numpyro.sample(f"W{layer}", normal(dtype, self.sw / math.sqrt(fan_in)).expand([n_out, fan_in]).to_event(2))
        if not _nonzero(self.sb):  # no biases (a zero-scale site would have no density); traced: biases
            return {f"W{layer}": w}
        return {
            f"W{layer}": w,
            f"b{layer}": numpyro.sample(f"b{layer}", normal(dtype, self.sb).expand([n_out]).to_event(1)),
        }

    def hidden_model(self, dtype=jnp.float64) -> Theta:
        theta = {}
        for layer in range(self.depth):
            theta.update(self._layer(layer, self.width, self.d if layer == 0 else self.width, dtype))
        return theta

    def hidden_features(self, hidden, x):
        """sigma(z^depth) (N, P): the last hidden layer's activations."""
        hp = jax.lax.Precision.HIGHEST
        z = jnp.einsum("nd,pd->pn", hidden["W0"], x, precision=hp) + hidden.get("b0", 0.0)
        for layer in range(1, self.depth):
            z = jnp.einsum("mn,pn->pm", hidden[f"W{layer}"], self.act.fn(z), precision=hp) + hidden.get(
                f"b{layer}", 0.0
            )
        return self.act.fn(z).T

    def model(self, x, dtype):
        theta = self.hidden_model(dtype)
        theta.update(self._layer(self.depth, 1, self.width, dtype))
        if x is None:
            return None
        return numpyro.deterministic("phi", self.forward(theta, jnp.asarray(x, dtype)))

    def forward(self, theta, x):
        h = self.hidden_features(theta, x)
        out = jnp.einsum("mn,np->pm", theta[f"W{self.depth}"], h, precision=jax.lax.Precision.HIGHEST)
        return (out + theta.get(f"b{self.depth}", 0.0))[:, 0]

    def sample_hidden_features(self, key, x, dtype=jnp.float64):
        """Exact layer-by-layer collapsed draw of the last hidden layer sigma(z^depth) (N, P):
        given layer l, the next layer's pre-activations are i.i.d. over neurons, Gaussian with
        the empirical P x P kernel sb^2 + (sw^2/N) sigma(z^l)^T sigma(z^l); drawing them from its
        square root costs N P^2 per layer instead of N^2 P."""
        x = jnp.asarray(x, dtype)
        n = self.width
        ks = jax.random.split(key, self.depth)
        z = _gaussian_rows(ks[0], input_layer(x, x, self.sw, self.sb).c, n, dtype)  # (N, P)
        for layer in range(1, self.depth):
            z = _gaussian_rows(ks[layer], self.empirical_kernel(self.act.fn(z)), n, dtype)
        return self.act.fn(z)

    def empirical_kernel(self, h: Float[Array, "N P"]) -> Float[Array, "P P"]:
        """sb^2 + (sw^2/N) h^T h: the next layer's covariance given this layer's activations h."""
        return self.sb**2 + (self.sw**2 / self.width) * jnp.einsum(
            "np,nq->pq", h, h, precision=jax.lax.Precision.HIGHEST
        )

    def output_vertex4(self, x):
        v, err = self.leading_vertex4(x)
        return v, err, self.depth == 1

    def sample_fields(self, keys, x, dtype=jnp.float64):
        """Exact collapsed sampler (`sample_hidden_features`, then the readout drawn from its P x P
        covariance): N P^2 per layer instead of N^2 P; used for P <= min(N, 32)."""
        x = jnp.asarray(self.points(x), dtype)
        n, p = self.width, x.shape[0]
        if p > min(n, 32):
            return super().sample_fields(keys, x, dtype)

        def one(k):
            k1, k2 = jax.random.split(k)
            return _gaussian_rows(k2, self.empirical_kernel(self.sample_hidden_features(k1, x, dtype)), 1, dtype)[0]

        return jax.vmap(one)(keys)

    def leading_vertex4(self, x, width=None):
        """The output's four-point vertex V_(ij)(kl) to leading order (`_four_point.deep_vertex`)."""
        x = self.check_points(x)
        v, err, _ = deep_vertex(x, self.act, self.sw, self.sb, self.depth)
        return v, err

    def kernel(self, x1, x2):
        """The layer recursion (`_recursion.serial_kernel`) with `depth` hidden layers."""
        return compiled_kernel(self, x1, x2, _deep_kernel)

    def g2_correction(self, x: Float[Array, "P d"]) -> np.ndarray:
        """The O(1/N) correction to G2 = nngp_kernel + correction + O(1/N^2), known for depth <= 2.

        Depth 2: given the first hidden layer, the second pre-activations are Gaussian with the
        empirical kernel K^ = sb^2 + (sw^2/N) sum_i sigma(z_i) sigma(z_i'), so G2 = sb^2 +
        sw^2 E[V(K^)], V the activation's dual of (K^_xx, K^_xy, K^_yy). To second order,
        E[V(K^)] = V(K) + (1/2) sum_ab H_ab Cov(K^_a, K^_b), with H the Hessian of V and
        Cov(K^_a, K^_b) = (sw^4/N) Cov(sigma sigma'_a, sigma sigma'_b) from first-layer neuron
        moments (Gauss-Hermite quadrature). Depth 1 has no correction.
        """
        x = self.check_points(x)
        p = x.shape[0]
        if self.depth == 1:
            return np.zeros((p, p))
        if self.depth > 2:
            raise NNFTError(f"depth: the O(1/N) correction to G2 is implemented for depth <= 2, got {self.depth}")
        sw2, sb2 = self.sw**2, self.sb**2
        dual = elementwise_dual(self.act)
        st = input_layer(x, x, self.sw, self.sb)
        k1 = np.asarray(st.c)
        m2 = np.asarray(dual(st.a1[:, None], st.c, st.a2[None, :]))  # E[sigma sigma'] in layer 1
        k2 = sb2 + sw2 * m2
        m4 = functools.cache(lambda idx: gaussian_moment(self.act.fn, k1[np.ix_(idx, idx)], budget=20_000))
        hess = jax.jit(jax.hessian(lambda v: dual(v[0], v[1], v[2])))
        out = np.zeros((p, p))
        for i, j in itertools.combinations(range(p), 2):  # V(a, a, a) is the diagonal: no Hessian there
            pairs = ((i, i), (i, j), (j, j))
            cov = np.array([[m4(tuple(sorted(a + b))) - m2[a] * m2[b] for b in pairs] for a in pairs])
            h = np.asarray(hess(jnp.asarray([k2[i, i], k2[i, j], k2[j, j]])))
            out[i, j] = out[j, i] = 0.5 * sw2 * np.sum(h * cov) * sw2**2 / self.width
        # the diagonal: V(a, a, a) as a function of a alone, its second derivative along a
        hd = np.asarray(jax.jit(jax.vmap(jax.grad(jax.grad(lambda a: dual(a, a, a)))))(jnp.asarray(np.diag(k2))))
        for i in range(p):
            out[i, i] = 0.5 * sw2 * hd[i] * (m4((i, i, i, i)) - m2[i, i] ** 2) * sw2**2 / self.width
        return out


def _gaussian_rows(key, cov, rows: int, dtype):
    """`rows` i.i.d. draws of N(0, cov) (cov P x P, positive semi-definite), shape (rows, P)."""
    lam, vec = jnp.linalg.eigh(cov)
    root = vec * jnp.sqrt(jnp.clip(lam, 0.0))[None, :]
    eps = jax.random.normal(key, (rows, cov.shape[0]), dtype)
    return jnp.einsum("rp,qp->rq", eps, root, precision=jax.lax.Precision.HIGHEST)


def _deep_kernel(arch, x1, x2):
    return serial_kernel(x1, x2, elementwise_dual(arch.act), arch.sw, arch.sb, arch.depth)
