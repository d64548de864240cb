"""AttentionNet: one multi-head self-attention layer over a short sequence, heads -> infinity."""

from __future__ import annotations

import functools
import math
from functools import lru_cache

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jaxtyping import Array, Float
from scipy import special

from .. import _validate as V
from .._errors import NNFTError
from ._activations import hermite_nodes
from ._base import Architecture, normal

_HP = jax.lax.Precision.HIGHEST
#: Gauss-Hermite nodes per axis of the query/key quadrature, by its dimension 2 e key_dim
_NODES = {4: 20}


class AttentionNet(Architecture):
    """phi(x) = b + sum_h w_h (1/T) sum_i sum_j A^h_ij(x) (v_h . x_j), one self-attention layer.

    x holds T tokens of dimension e = d / T, flattened token-major (x[p, i e + a] is component a
    of token i); `tokens=None` means T = d scalar tokens. Head h has query and key weights
    W^Q_h, W^K_h (key_dim x e, entries N(0, sqk^2 / e)), logits
    L_ij = (W^Q_h x_i) . (W^K_h x_j) / sqrt(key_dim), attention A^h = softmax_j(L), value weights
    v_h ~ N(0, I_e / e); the heads' outputs are mean-pooled over tokens and read out with
    w_h ~ N(0, sw^2 / H), b ~ N(0, sb^2). No positional encoding: each network is invariant under
    permutations of the tokens. `width` is the number of heads H (`heads` reads it): the N of NN-FT.

    The heads are i.i.d. and the readout is independent of them, so G2 equals the kernel at any H
    and the field is Gaussian as H -> infinity (Hron et al., arXiv:2006.10540, who prove this for
    multi-head attention). Its kernel is one head's expectation,
    K(x, y) = sb^2 + (sw^2 / e) E_{W^Q, W^K}[B(x) . B(y)], B(x) = sum_j abar_j(x) x_j with
    abar_j = (1/T) sum_i A_ij (the value weights integrated out exactly). The logits are
    L_ij = x_i^T M x_j with M = W^Q^T W^K / sqrt(key_dim), so this is an integral over M
    (`logit_rule`): for scalar tokens (e = 1, any key_dim <= 16) a one-dimensional integral over
    the variance-gamma law of M, done to ~1e-12; for e = 2, key_dim = 1 a 4-dimensional
    Gauss-Hermite rule (~3e-4 absolute: 20 vs 32 nodes per axis). Either way jit-able,
    differentiable in the scales and PSD by construction (a positive-weight sum of outer products
    B_n(x) B_n(y)^T).

    Why this and not Hron et al.'s Gaussian-logit kernel: theirs is the limit key_dim -> infinity
    (with 1/sqrt(key_dim) scaling) where M becomes Gaussian; at the finite key dimension one
    samples, the network's infinite-head kernel is the integral above, which is numerically exact
    and agrees with their Gaussian-logit kernel as key_dim grows (`gaussian_logit_kernel`,
    checked in `tests/test_attention.py`). Their 1/key_dim scaling would make the logits
    deterministic and, with independent W^Q and W^K, zero: uniform attention.
    """

    width: int = 64
    d: int = 1
    tokens: int | None = eqx.field(default=None, static=True)
    key_dim: int = eqx.field(default=1, static=True)
    sqk: float = 1.0
    sw: float = 1.0
    sb: float = 1.0
    zoo_test_params = {"width": 3}

    def __check_init__(self):
        V.field_integer("width", self.width)
        V.field_integer("d", self.d)
        V.field_integer("key_dim", self.key_dim)
        V.positive("sqk", self.sqk)
        if not isinstance(self.sqk, jax.core.Tracer) and self.sqk > 1e50:
            raise NNFTError(f"sqk = {self.sqk!r} is too large: the logits scale as sqk^2 (at most 1e50)")
        V.positive("sw", self.sw)
        V.positive("sb", self.sb)
        if self.tokens is not None:
            V.field_integer("tokens", self.tokens)
            if self.d % self.tokens:
                raise NNFTError(
                    f"tokens = {self.tokens} does not divide d = {self.d}: x holds T tokens of dimension e, d = T * e"
                )
        if self.embed == 1 and self.key_dim > 16:
            raise NNFTError(f"key_dim must be <= 16 (the kernel's quadrature), got {self.key_dim}")
        if self.embed > 1 and 2 * self.embed * self.key_dim not in _NODES:
            raise NNFTError(
                f"key_dim: tokens of dimension e = {self.embed} > 1 need a {2 * self.embed * self.key_dim}-dimensional "
                "quadrature over one head's query/key weights; supported: scalar tokens (e = 1) with any "
                "key_dim <= 16, or e = 2 with key_dim = 1"
            )

    @property
    def heads(self) -> int:
        """The number of attention heads (the width)."""
        return self.width

    @property
    def n_tokens(self) -> int:
        """T, the sequence length."""
        return self.d if self.tokens is None else self.tokens

    @property
    def embed(self) -> int:
        """e, the dimension of one token."""
        return self.d // self.n_tokens

    def model(self, x, dtype):
        h, e, k = self.width, self.embed, self.key_dim
        qk = normal(dtype, self.sqk / math.sqrt(e)).expand([h, k, e]).to_event(3)
        theta = {"Wq": numpyro.sample("Wq", qk), "Wk": numpyro.sample("Wk", qk)}
        theta["Wv"] = numpyro.sample("Wv", normal(dtype, 1.0 / math.sqrt(e)).expand([h, e]).to_event(2))
        theta["W_out"] = numpyro.sample("W_out", normal(dtype, self.sw / math.sqrt(h)).expand([h]).to_event(1))
        theta["b_out"] = numpyro.sample("b_out", normal(dtype, self.sb))
        if x is None:
            return None
        return numpyro.deterministic("phi", self.forward(theta, jnp.asarray(x, dtype)))

    def forward(self, theta, x):
        xt = x.reshape(x.shape[0], self.n_tokens, self.embed)
        abar = _pooled_attention(theta["Wq"], theta["Wk"], xt, self.key_dim)  # (H, P, T)
        vals = jnp.einsum("he,pte->hpt", theta["Wv"], xt, precision=_HP)
        y = jnp.einsum("hpt,hpt->hp", abar, vals, precision=_HP)
        return jnp.einsum("h,hp->p", theta["W_out"], y, precision=_HP) + theta["b_out"]

    def kernel(self, x1, x2):
        """sb^2 + (sw^2/e) sum_n w_n B_n(x1) . B_n(x2) over the nodes n of the logit matrix
        M = W^Q^T W^K / sqrt(key_dim) (`logit_rule`)."""
        return self._kernel_by_rule(x1, x2, *logit_rule(self.embed, self.key_dim))

    def gaussian_logit_kernel(self, x1: Float[Array, "P1 d"], x2: Float[Array, "P2 d"]) -> Float[Array, "P1 P2"]:
        """Hron et al.'s kernel (arXiv:2006.10540): the key_dim -> infinity limit of `nngp_kernel`,
        where M is Gaussian (scalar tokens only: M ~ N(0, sqk^4))."""
        if self.embed != 1:
            raise NNFTError(f"tokens: the Gaussian-logit kernel is implemented for scalar tokens, e = {self.embed}")
        return self._kernel_by_rule(self.points(x1, "x1"), self.points(x2, "x2"), *logit_rule(1, 0))

    def _kernel_by_rule(self, x1, x2, m_unit, w):
        m = jnp.asarray(m_unit)
        return _rule_kernel(
            jnp.asarray(x1), jnp.asarray(x2), m, jnp.asarray(w, m.dtype), self.sqk, self.sw, self.sb, self.n_tokens
        )


@functools.partial(jax.jit, static_argnames=("tokens",))
def _rule_kernel(x1, x2, m_unit, w, sqk, sw, sb, tokens: int):
    """sb^2 + (sw^2/e) sum_n w_n B_n(x1) . B_n(x2), logits x_i^T (sqk^2 M_n) x_j."""
    e = x1.shape[1] // tokens
    m = sqk**2 * m_unit  # (N, e, e)

    def pooled(x):
        xt = x.reshape(x.shape[0], tokens, e)
        logits = jnp.einsum("pia,nab,pjb->npij", xt, m, xt, precision=_HP)
        abar = jax.nn.softmax(logits, axis=-1).mean(axis=2)
        return jnp.einsum("npt,pte->npe", abar, xt, precision=_HP)

    return sb**2 + (sw**2 / e) * jnp.einsum("n,npe,nqe->pq", w, pooled(x1), pooled(x2), precision=_HP)


def _pooled_attention(wq, wk, xt, key_dim: int):
    """abar[h, p, j] = (1/T) sum_i softmax_j(L^h_ij(x_p)) for query/key weights (H, key_dim, e)."""
    q = jnp.einsum("hke,pte->hptk", wq, xt, precision=_HP)
    kk = jnp.einsum("hke,pte->hptk", wk, xt, precision=_HP)
    logits = jnp.einsum("hpik,hpjk->hpij", q, kk, precision=_HP) / math.sqrt(key_dim)
    return jax.nn.softmax(logits, axis=-1).mean(axis=2)


@lru_cache(maxsize=8)
def logit_rule(e: int, key_dim: int, step: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Nodes M_n (N, e, e) and weights w_n with E[f(M)] ~ sum_n w_n f(M_n) for one head's logit
    matrix at sqk = 1, M = sum_{m < key_dim} q_m k_m^T / (e sqrt(key_dim)), q_m, k_m ~ N(0, I_e).

    Scalar tokens (e = 1): M = y / sqrt(key_dim) with y a sum of key_dim products of independent
    standard normals, density |y|^nu K_nu(|y|) / (sqrt(pi) Gamma(key_dim / 2) 2^nu), nu =
    (key_dim - 1) / 2 (a variance-gamma law); with |y| = exp(s) the integrand is analytic in a
    strip around the real s axis and decays double-exponentially, so the trapezoid rule in s
    (`step`) converges geometrically: ~1e-12 (`tests/test_attention.py`). key_dim = 0 means the
    limit key_dim -> infinity, M ~ N(0, 1) (the Gaussian logits of Hron et al.). Otherwise a tensor
    Gauss-Hermite rule over the 2 e key_dim weights (`_NODES` per axis), accurate to ~3e-4
    (against 32 nodes per axis)."""
    if e == 1:
        s = np.arange(-45.0, np.log(60.0 + 4.0 * key_dim), step)
        y = np.exp(s)
        if key_dim == 0:  # the key_dim -> infinity limit: M ~ N(0, 1)
            dens = np.exp(-0.5 * y * y) / np.sqrt(2.0 * np.pi)
        else:
            nu = 0.5 * (key_dim - 1)
            dens = y**nu * special.kve(nu, y) * np.exp(-y) / (np.sqrt(np.pi) * special.gamma(key_dim / 2) * 2**nu)
        w = step * dens * y  # dy = y ds, for each sign of y
        m = np.concatenate([y, -y]) / np.sqrt(max(key_dim, 1))
        return m.reshape(-1, 1, 1), np.concatenate([w, w])
    dim = 2 * e * key_dim
    z, w = hermite_nodes(_NODES[dim])
    grids = np.meshgrid(*([z] * dim), indexing="ij")
    pts = np.stack([g.ravel() for g in grids], axis=1)
    wts = np.prod(np.meshgrid(*([w] * dim), indexing="ij"), axis=0).ravel()
    q = pts[:, : e * key_dim].reshape(-1, key_dim, e)
    k = pts[:, e * key_dim :].reshape(-1, key_dim, e)
    return np.einsum("nma,nmb->nab", q, k) / (e * np.sqrt(key_dim)), wts
