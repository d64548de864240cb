# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Infinite-width (NNGP) kernels of the zoo as GPJax kernels.

`NNGPKernel` wraps any `Architecture`: its `nngp_kernel` becomes a GPJax 1.x
`AbstractKernel` whose prior scales (every float field of the architecture: `sw`,
`sb`, `sa`, `sigma`, `lengthscale`, ...) are trainable `PositiveReal` parameters.

Whole matrices are computed by the architecture's own `nngp_kernel` in one call (a
single broadcast for single-layer networks with a closed-form dual), never by GPJax's
per-pair vmap.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from gpjax.kernels import AbstractKernel, ArcCosine, Constant
from gpjax.parameters import PositiveReal, val
from jaxtyping import Array, Float

from .._errors import NNFTError
from ..architectures import Architecture, ReLUNet, scale_names
from ..dynamics import has_analytic_ntk, ntk_kernel


def kernel_matrix(arch: Architecture, x1: Float[Array, "N D"], x2: Float[Array, "M D"]) -> Float[Array, "N M"]:
    """The whole kernel matrix in one call (single-layer kernels broadcast, see
    `AbstractSingleLayer.nngp_kernel`), never GPJax's per-pair vmap."""
    return arch.nngp_kernel(x1, x2)


def _field_names(arch) -> list[str]:
    return [f.name for f in dataclasses.fields(arch) if f.init]


def scale_fields(arch: Architecture) -> tuple[str, ...]:
    """The architecture's continuous prior scales: its fields annotated `float`, in declaration order."""
    return scale_names(arch)


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
        self.template = arch.with_float_scales()  # a static field: plain floats, not arrays
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

    def matrix(self, arch: Architecture, x1: Float[Array, "N D"], x2: Float[Array, "M D"]) -> Float[Array, "N M"]:
        """The kernel's whole matrix for `arch` (subclasses choose the kernel: the NNGP's here)."""
        return kernel_matrix(arch, x1, x2)

    def __call__(self, x: Float[Array, " D"], y: Float[Array, " D"]) -> Float[Array, ""]:
        return self.matrix(self.arch, jnp.atleast_1d(x)[None, :], jnp.atleast_1d(y)[None, :])[0, 0]

    # whole matrices in one call (`kernel_matrix`), never GPJax's per-pair vmap
    def cross_covariance(self, x: Float[Array, "N D"], y: Float[Array, "M D"]) -> Float[Array, "N M"]:
        return self.matrix(self.arch, self.template.points(x, "x"), self.template.points(y, "y"))

    def gram(self, x: Float[Array, "N D"]) -> lx.AbstractLinearOperator:
        x = self.template.points(x, "x")  # (N, D); 1-D inputs are N points when D = 1
        # exactly symmetric (the broadcast's rounding may differ between k_ij and k_ji by an
        # ulp); XLA fuses this, re-evaluating the elementwise kernel per read: cheap
        # (~1 ns an element) with the rational arcsin/arccos, 4x atan2 before
        k = self.matrix(self.arch, x, x)
        k = 0.5 * (k + k.T)
        return lx.TaggedLinearOperator(lx.MatrixLinearOperator(k), lx.positive_semidefinite_tag)

    def diagonal(self, x: Float[Array, "N D"]) -> lx.AbstractLinearOperator:
        x = self.template.points(x, "x")
        arch = self.arch
        diag = jax.vmap(lambda xi: self.matrix(arch, xi[None, :], xi[None, :])[0, 0])(x)
        return lx.TaggedLinearOperator(lx.DiagonalLinearOperator(diag), lx.positive_semidefinite_tag)

    def with_arch(self, arch: Architecture) -> NNGPKernel:
        """A kernel for `arch` keeping this kernel's choice of trainable scales."""
        return NNGPKernel(arch, tuple(self.scales))


class NTKKernel(NNGPKernel):
    """The infinite-width neural tangent kernel of `arch` (NTK parametrisation,
    `nnft_ppl.dynamics.ntk_kernel`) as a GPJax kernel with trainable prior scales: the NNGP
    kernel's machinery with the NTK's matrix. Its GP posterior mean is the infinite-time
    lazy-regime prediction of a trained ensemble (kernel regression with the NTK)."""

    def __init__(self, arch: Architecture, trainable: tuple[str, ...] | None = None):
        if isinstance(arch, Architecture) and not has_analytic_ntk(arch):
            raise NNFTError(f"arch: no analytic NTK for {arch.name}; known for single-layer networks and DeepMLP")
        super().__init__(arch, trainable)
        self.name = f"NTK[{arch.name}]"

    def matrix(self, arch, x1, x2):
        return ntk_kernel(arch, x1, x2)

    def with_arch(self, arch: Architecture) -> NTKKernel:
        return NTKKernel(arch, tuple(self.scales))


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
