# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Neural tangent kernels: empirical (any network, batched over an ensemble) and analytic
(infinite width, NTK parametrisation).

The empirical NTK of a network with trainable parameters p is Theta(x, x') = sum_p
d phi(x)/dp d phi(x')/dp. For single-layer networks (`AbstractSingleLayer`) it is a sum over
neurons in closed form: with theta = m * omega (the multipliers of the parametrisation, ones for
the standard one), h_i the features, s_i = dh_i/dz_i and W1 the readout,

    Theta = sum_i m_W1^2 h_i h_i' + m_b1^2 + sum_i W1_i^2 s_i s_i' (sum_k m_W0k^2 x_k x'_k + m_b0^2),

O(N P^2) work and memory, no Jacobian. Any other network uses the implicit form (one vjp and one
jvp per column of Theta, in batches), never the full Jacobian at once.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError
from ..architectures import AbstractSingleLayer, Architecture
from ..architectures._activations import elementwise_derivative_dual, elementwise_dual
from ..architectures._recursion import serial_ntk
from ..architectures.deep_mlp import DeepMLP
from ..architectures.gaussnet import GaussNet
from ._param import Parametrized, Theta

_HP = jax.lax.Precision.HIGHEST
#: bytes of parameter tangents the implicit NTK keeps at once (per network)
_IMPLICIT_BYTES = 1 << 26


def _split(model) -> tuple[Architecture, Parametrized | None]:
    if isinstance(model, Parametrized):
        return model.arch, model
    if isinstance(model, Architecture):
        return model, None
    raise NNFTError(f"arch: expected an Architecture or Parametrized, got {type(model).__name__}")


def _batched(model, theta: Theta) -> bool:
    """Whether theta carries a leading ensemble axis (checked against one draw's shapes)."""
    ref = jax.eval_shape(lambda k: model.sample_theta(k, jnp.float32), jax.random.key(0))
    if set(ref) != set(theta):
        raise NNFTError(f"theta: sites {sorted(theta)} do not match the model's {sorted(ref)}")
    lead = {jnp.ndim(theta[k]) - len(ref[k].shape) for k in ref}
    if lead == {0} and all(jnp.shape(theta[k]) == ref[k].shape for k in ref):
        return False
    if lead == {1} and len({jnp.shape(theta[k])[0] for k in ref}) == 1:
        if all(jnp.shape(theta[k])[1:] == ref[k].shape for k in ref):
            return True
    raise NNFTError("theta: shapes match neither one network's parameters nor an ensemble (leading axis) of them")


def _single_layer_ntk(arch: AbstractSingleLayer, sq: Theta, theta: Theta, x1, x2):
    """The closed form of the module docstring for one network (theta: the architecture's own;
    `sq`: the squared multipliers m^2 times the learning-rate weights, by site)."""
    hidden = arch.hidden_sites(theta)
    ones = jnp.ones_like(hidden["b0"])

    def feats(b0, x):
        return arch.features({**hidden, "b0": b0}, x)

    h1, s1 = jax.jvp(lambda b: feats(b, x1), (hidden["b0"],), (ones,))
    h2, s2 = jax.jvp(lambda b: feats(b, x2), (hidden["b0"],), (ones,))
    w1 = theta[arch.readout_site]
    out = jnp.einsum("np,nq->pq", sq[arch.readout_site][:, None] * h1, h2, precision=_HP)
    if arch.bias_site in theta:
        out = out + sq[arch.bias_site]
    m0 = sq["W0"][0]  # (d,): the multipliers are the same for every neuron
    inner = jnp.einsum("pd,qd->pq", x1 * m0, x2, precision=_HP) + sq["b0"][0]
    return out + jnp.einsum("np,nq->pq", (w1 * w1)[:, None] * s1, s2, precision=_HP) * inner


def _implicit_ntk(apply, params: Theta, x1, x2, weights: dict | None = None):
    """J1 C J2^T column by column (C: per-site learning-rate weights, default 1): one vjp at x2,
    then a jvp at x1 per unit vector, in batches."""
    _, vjp2 = jax.vjp(lambda p: apply(p, x2), params)
    n_par = sum(v.size for v in jax.tree.leaves(params))
    batch = int(max(1, min(x2.shape[0], _IMPLICIT_BYTES // max(8 * n_par, 1))))

    def column(e):
        (v,) = vjp2(e)
        if weights is not None:
            v = {k: weights[k] * a for k, a in v.items()}
        return jax.jvp(lambda p: apply(p, x1), (params,), (v,))[1]

    eye = jnp.eye(x2.shape[0], dtype=jax.tree.leaves(params)[0].dtype)
    return jax.lax.map(column, eye, batch_size=batch).T


def ntk_fn(model):
    """`(params, x1, x2) -> Theta` for one network of `model` (an Architecture, trained in its own
    standard parametrisation, or a `Parametrized`), on checked (P, d) points; jit-friendly. For a
    `Parametrized` with per-site learning rates (muP), each site's term is weighted by its rate
    multiplier: the kernel that drives gradient descent, d phi / dt = -eta Theta (phi - Y)."""
    arch, par = _split(model)
    if isinstance(arch, AbstractSingleLayer):

        def one(params, x1, x2):
            dtype = jnp.result_type(*params.values())
            if par is None:
                return _single_layer_ntk(arch, {k: jnp.ones_like(v) for k, v in params.items()}, params, x1, x2)
            m, c = par.multipliers(dtype), par.lr_scales(params)
            return _single_layer_ntk(arch, {k: c[k] * v * v for k, v in m.items()}, par.to_theta(params), x1, x2)

        return one
    if par is not None and par.lr_scale != 1.0:
        return lambda params, x1, x2: _implicit_ntk(model.apply, params, x1, x2, par.lr_scales(params))
    return lambda params, x1, x2: _implicit_ntk(model.apply, params, x1, x2)


def empirical_ntk(
    arch, theta: Theta, x1: Float[Array, "P1 d"] | Float[Array, " P1"], x2=None, batch_size: int | None = None
) -> Float[Array, "*M P1 P2"]:
    """The empirical NTK sum_p dphi(x1)/dp dphi(x2)/dp of one network, or of an ensemble when
    theta has a leading axis (then shape (M, P1, P2)).

    `arch` is an Architecture (the gradient is over its own theta: the standard parametrisation,
    whose NTK grows like the width) or a `Parametrized` (the gradient is over its trainable
    parameters, each site weighted by its learning-rate multiplier: see `ntk_fn`). Single-layer
    networks use a closed form, others the implicit vjp/jvp form;
    neither builds the full Jacobian. `x2` defaults to `x1`. With `batch_size`, an ensemble is
    processed that many networks at a time (`lax.map`), bounding the memory."""
    x1 = arch.points(x1, "x1")
    x2 = x1 if x2 is None else arch.points(x2, "x2")
    fn = ntk_fn(arch)
    theta = {k: jnp.asarray(v) for k, v in theta.items()}
    if not _batched(arch, theta):
        return fn(theta, x1, x2)
    if batch_size is None:
        return jax.vmap(fn, (0, None, None))(theta, x1, x2)
    return jax.lax.map(lambda p: fn(p, x1, x2), theta, batch_size=V.integer("batch_size", batch_size))


def ntk_by_jacobian(arch, theta: Theta, x1, x2) -> Float[Array, "*M P1 P2"]:
    """The plain reference: `jax.jacrev` of the field at x1 and at x2, then the contraction over
    every parameter (materialises both Jacobians; for tests and benchmarks)."""
    x1, x2 = arch.points(x1, "x1"), arch.points(x2, "x2")
    _, par = _split(arch)

    def one(p):
        j1 = jax.jacrev(lambda q: arch.apply(q, x1))(p)
        j2 = jax.jacrev(lambda q: arch.apply(q, x2))(p)
        c = par.lr_scales(p) if par is not None else {k: 1.0 for k in p}
        return sum(
            c[k]
            * jnp.einsum("pa,qa->pq", j1[k].reshape(x1.shape[0], -1), j2[k].reshape(x2.shape[0], -1), precision=_HP)
            for k in p
        )

    theta = {k: jnp.asarray(v) for k, v in theta.items()}
    return jax.vmap(one)(theta) if _batched(arch, theta) else one(theta)


def has_analytic_ntk(arch) -> bool:
    """Whether `ntk_kernel` knows `arch`'s infinite-width NTK (single-layer nets and DeepMLP)."""
    return isinstance(arch, (AbstractSingleLayer, DeepMLP))


def _duals(arch):
    if isinstance(arch, GaussNet):  # h = exp(z - v(x)): dh/dz = h, so K-dot is the dual itself
        return arch.neuron_dual, arch.neuron_dual, 1
    if isinstance(arch, AbstractSingleLayer):
        return arch.neuron_dual, elementwise_derivative_dual(arch.act), 1
    if isinstance(arch, DeepMLP):
        return elementwise_dual(arch.act), elementwise_derivative_dual(arch.act), arch.depth
    raise NNFTError(f"arch: no analytic NTK for {arch.name}; known for single-layer networks and DeepMLP")


def ntk_kernel(
    arch, x1: Float[Array, "P1 d"] | Float[Array, " P1"], x2: Float[Array, "P2 d"] | Float[Array, " P2"] | None = None
) -> Float[Array, "P1 P2"]:
    """The infinite-width NTK of `arch` in the NTK parametrisation (Jacot et al. 2018): the layer
    recursion Theta^{l+1} = K^{l+1} + sw^2 Kdot^{l+1} Theta^l from Theta^0 = K^0, with
    Kdot = E[sigma'(u) sigma'(v)] (closed form for erf, relu, cos, exp, linear; quadrature
    otherwise). It is the ensemble mean of `empirical_ntk(Parametrized(arch, "ntk"), ...)`
    (exactly at any width for single-layer networks). `arch` may be a `Parametrized` in "ntk"."""
    if isinstance(arch, Parametrized):
        if arch.parametrization != "ntk":
            raise NNFTError(f"arch: the analytic NTK is the NTK parametrisation's, not {arch.parametrization!r}")
        arch = arch.arch
    dual, ddual, depth = _duals(arch)
    x1 = arch.points(x1, "x1")
    x2 = x1 if x2 is None else arch.points(x2, "x2")
    return serial_ntk(x1, x2, dual, ddual, arch.sw, arch.sb, depth)
