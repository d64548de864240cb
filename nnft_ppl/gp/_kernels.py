# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Infinite-width (NNGP) kernels of the zoo as GPJax kernels.

`NNGPKernel` wraps any `Architecture`: its `nngp_kernel` becomes a GPJax 1.x
`AbstractKernel` whose prior scales (every float field of the architecture: `sw`,
`sb`, `sa`, `sigma`, `lengthscale`, ...) are trainable `PositiveReal` parameters.

Whole matrices are computed in one broadcast: for single-layer networks with a
closed-form dual (ErfNet, ReLUNet, `SingleLayer` with erf/relu/cos/exp/linear) the
preactivation covariances are an outer product and the dual acts elementwise, with
arcsin/arccos as rational approximations (XLA's CPU `atan2` costs ~10 ns an element,
these ~1 ns; both within 1-2 ulp of NumPy); other architectures use their own
`nngp_kernel`.
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from gpjax.kernels import AbstractKernel, ArcCosine, Constant
from gpjax.parameters import PositiveReal, val
from jaxtyping import Array, Float

from .._errors import NNFTError
from ..architectures import ACTIVATIONS, AbstractSingleLayer, Architecture, IIDNeuronArchitecture, ReLUNet

# Cephes asin: |x| <= 0.625: x + x z P(z)/Q(z), z = x^2; else pi/2 - 2 asin(sqrt((1-|x|)/2)) via R/S
_P = (
    4.253011369004428248960e-3,
    -6.019598008014123785661e-1,
    5.444622390564711410273e0,
    -1.626247967210700244449e1,
    1.956261983317594739197e1,
    -8.198089802484824371615e0,
)
_Q = (
    -1.474091372988853791896e1,
    7.049610280856842141659e1,
    -1.471791292232726029859e2,
    1.395105614657485689735e2,
    -4.918853881490881290097e1,
)
_R = (
    2.967721961301243206100e-3,
    -5.634242780008963776856e-1,
    6.968710824104713396794e0,
    -2.556901049652824852289e1,
    2.853665548261061424989e1,
)
_S = (
    -2.194779531642920639778e1,
    1.470656354026814941758e2,
    -3.838770957603691357202e2,
    3.424398657913078477438e2,
)
_PIO4 = math.pi / 4
_MOREBITS = 6.123233995736765886130e-17  # pi/4 - float(pi/4)


def _horner(z, coef, monic=False):
    r = z + coef[0] if monic else jnp.full_like(z, coef[0])
    for c in coef[1:]:
        r = r * z + c
    return r


def _asin_abs(a):
    """asin(a) for 0 <= a <= 1 with additions, products, one division and one sqrt only."""
    zz = 1.0 - a
    p = zz * _horner(zz, _R) / _horner(zz, _S, monic=True)
    s = jnp.sqrt(zz + zz)
    near_one = ((_PIO4 - s) - (s * p - _MOREBITS)) + _PIO4
    z = a * a
    small = a + a * (z * _horner(z, _P) / _horner(z, _Q, monic=True))
    return jnp.where(a > 0.625, near_one, small)


@jax.custom_jvp
def arcsin(x):
    """`jnp.arcsin` (within 1 ulp of NumPy) that XLA vectorises on CPU."""
    return jnp.copysign(_asin_abs(jnp.abs(x)), x)


@arcsin.defjvp
def _arcsin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return arcsin(x), t / jnp.sqrt((1.0 - x) * (1.0 + x))


@jax.custom_jvp
def arccos(x):
    """`jnp.arccos` (within 2 ulp of NumPy) from one `arcsin` evaluation (Cephes)."""
    a = jnp.abs(x)
    r = _asin_abs(jnp.where(a > 0.5, jnp.sqrt(0.5 * (1.0 - a)), a))
    mid = ((_PIO4 - jnp.copysign(r, x)) + _MOREBITS) + _PIO4
    return jnp.where(x > 0.5, 2.0 * r, jnp.where(x < -0.5, math.pi - 2.0 * r, mid))


@arccos.defjvp
def _arccos_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return arccos(x), -t / jnp.sqrt((1.0 - x) * (1.0 + x))


def _erf_dual(a, c, b):
    """ACTIVATIONS["erf"].dual with the vectorised `arcsin`."""
    return (2.0 / jnp.pi) * arcsin(2.0 * c / jnp.sqrt((1.0 + 2.0 * a) * (1.0 + 2.0 * b)))


def _relu_dual(a, c, b):
    """ACTIVATIONS["relu"].dual (same clipping) with the vectorised `arccos`; sin(arccos u) = sqrt(1 - u^2)."""
    ab = jnp.sqrt(a * b)
    cos_t = jnp.clip(c / jnp.where(ab > 0, ab, 1.0), -1.0 + 1e-15, 1.0 - 1e-15)
    t = arccos(cos_t)
    return ab * (jnp.sqrt((1.0 - cos_t) * (1.0 + cos_t)) + (jnp.pi - t) * cos_t) / (2.0 * jnp.pi)


_FAST_DUALS = {ACTIVATIONS["erf"].dual: _erf_dual, ACTIVATIONS["relu"].dual: _relu_dual}


def _broadcast_dual(arch: Architecture):
    """The elementwise dual V(a, c, b) when `arch`'s kernel is the generic single-layer one
    (bias_std^2 + readout_std^2 V(c11, c12, c22) with c the preactivation covariance), else None."""
    cls = type(arch)
    if not (
        isinstance(arch, AbstractSingleLayer)
        and cls.nngp_kernel is IIDNeuronArchitecture.nngp_kernel
        and cls.neuron_moment is AbstractSingleLayer.neuron_moment
        and cls.preactivation_cov is AbstractSingleLayer.preactivation_cov
    ):
        return None
    dual = arch.act.dual
    return None if dual is None else _FAST_DUALS.get(dual, dual)


def kernel_matrix(arch: Architecture, x1: Float[Array, "N D"], x2: Float[Array, "M D"]) -> Float[Array, "N M"]:
    """`arch.nngp_kernel(x1, x2)` as one broadcast where the architecture allows (see the
    module docstring), else the architecture's own kernel."""
    dual = _broadcast_dual(arch)
    if dual is None:
        return arch.nngp_kernel(x1, x2)
    sb2, sw2 = arch.sb**2, arch.sw**2
    if x1.shape[1] > 8:
        dot = jnp.matmul(x1, x2.T, precision=jax.lax.Precision.HIGHEST)
    else:  # short contractions elementwise, as `affine` does
        dot = sum(x1[:, None, k] * x2[None, :, k] for k in range(x1.shape[1]))
    c = sb2 + sw2 * dot / arch.d
    a1 = sb2 + sw2 * jnp.sum(x1 * x1, axis=1) / arch.d
    a2 = a1 if x1 is x2 else sb2 + sw2 * jnp.sum(x2 * x2, axis=1) / arch.d
    return arch.bias_std**2 + arch.readout_std**2 * dual(a1[:, None], c, a2[None, :])


def _field_names(arch) -> list[str]:
    return [f.name for f in dataclasses.fields(arch) if f.init]


def scale_fields(arch: Architecture) -> tuple[str, ...]:
    """The architecture's continuous prior scales: its float-valued fields, in declaration order."""
    return tuple(
        f
        for f in arch.__dataclass_fields__
        if isinstance(getattr(arch, f), float) and not isinstance(getattr(arch, f), bool)
    )


class NNGPKernel(AbstractKernel):
    """The NNGP kernel of `arch` as a GPJax kernel with trainable prior scales.

    `template` fixes the architecture's discrete structure (width, depth, activation,
    features); `scales` holds its float fields as `PositiveReal` parameters.
    """

    template: Architecture = eqx.field(static=True)
    scales: dict
    name: str = eqx.field(static=True)

    def __init__(self, arch: Architecture, trainable: tuple[str, ...] | None = None):
        if not isinstance(arch, Architecture):
            raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
        names = scale_fields(arch)
        trainable = names if trainable is None else tuple(trainable)
        unknown = set(trainable) - set(names)
        if unknown:
            raise NNFTError(f"trainable: {sorted(unknown)} are not float scales of {arch.name}; known: {list(names)}")
        self.template = arch
        self.scales = {n: PositiveReal(jnp.asarray(getattr(arch, n), jnp.float64)) for n in trainable}
        self.name = f"NNGP[{arch.name}]"
        super().__init__(n_dims=arch.d)

    @property
    def arch(self) -> Architecture:
        """The architecture with the current (constrained) scale values."""
        names = tuple(self.scales)
        if not names:
            return self.template
        return eqx.tree_at(
            lambda a: tuple(getattr(a, n) for n in names),
            self.template,
            tuple(val(self.scales[n]) for n in names),
            is_leaf=lambda x: x is None,
        )

    def values(self) -> dict[str, float]:
        """Current scale values as plain floats."""
        return {n: float(val(p)) for n, p in self.scales.items()}

    def __call__(self, x: Float[Array, " D"], y: Float[Array, " D"]) -> Float[Array, ""]:
        return self.arch.nngp_kernel(jnp.atleast_1d(x)[None, :], jnp.atleast_1d(y)[None, :])[0, 0]

    # whole matrices in one call (`kernel_matrix`), never GPJax's per-pair vmap
    def cross_covariance(self, x: Float[Array, "N D"], y: Float[Array, "M D"]) -> Float[Array, "N M"]:
        return kernel_matrix(self.arch, jnp.atleast_2d(x), jnp.atleast_2d(y))

    def gram(self, x: Float[Array, "N D"]) -> lx.AbstractLinearOperator:
        x = jnp.atleast_2d(x)
        # exactly symmetric (the broadcast's rounding may differ between k_ij and k_ji by an
        # ulp); XLA fuses this, re-evaluating the elementwise kernel per read: cheap
        # (~1 ns an element) with the rational arcsin/arccos, 4x atan2 before
        k = kernel_matrix(self.arch, x, x)
        k = 0.5 * (k + k.T)
        return lx.TaggedLinearOperator(lx.MatrixLinearOperator(k), lx.positive_semidefinite_tag)

    def diagonal(self, x: Float[Array, "N D"]) -> lx.AbstractLinearOperator:
        x = jnp.atleast_2d(x)
        arch = self.arch
        dual = _broadcast_dual(arch)
        if dual is not None:
            a = arch.sb**2 + arch.sw**2 * jnp.sum(x * x, axis=1) / arch.d
            diag = arch.bias_std**2 + arch.readout_std**2 * dual(a, a, a)
        else:
            diag = jax.vmap(lambda xi: arch.nngp_kernel(xi[None, :], xi[None, :])[0, 0])(x)
        return lx.TaggedLinearOperator(lx.DiagonalLinearOperator(diag), lx.positive_semidefinite_tag)

    def with_arch(self, arch: Architecture) -> NNGPKernel:
        """A kernel for `arch` keeping this kernel's choice of trainable scales."""
        return NNGPKernel(arch, tuple(self.scales))


def arch_from_kernel(kernel: NNGPKernel) -> Architecture:
    """The architecture rebuilt (validated) with the kernel's fitted scales as floats."""
    base = kernel.template
    kw = {f: getattr(base, f) for f in _field_names(base)}
    kw.update(kernel.values())
    return type(base)(**kw)


def relu_as_arccosine(arch: ReLUNet) -> AbstractKernel:
    """GPJax's own kernel equal to the ReLUNet NNGP kernel: `Constant(sb^2) + ArcCosine(order=1)`.

    With pre-activation covariance sb^2 + sw^2 x.y/d, E[relu(u) relu(v)] is the order-1
    arc-cosine kernel / 2 with weight variance sw^2/d and bias variance sb^2, so the
    variance is sw^2 / 2 and the constant sb^2.
    """
    if not isinstance(arch, ReLUNet):
        raise NNFTError(f"arch: expected a ReLUNet, got {type(arch).__name__}")
    arc = ArcCosine(
        order=1,
        variance=arch.sw**2 / 2.0,
        weight_variance=arch.sw**2 / arch.d,
        bias_variance=arch.sb**2,
        n_dims=arch.d,
    )
    return Constant(constant=jnp.asarray(arch.sb**2)) + arc
