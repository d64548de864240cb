"""The Gaussian (infinite-width) ensemble of an architecture as a samplable NumPyro model on a fixed
set of points: phi = L xi, xi ~ N(0, I) (a named sample site), L L^T = K(points, points).

`deform.Deformed` samples an architecture's prior at the observation points followed by the
quadrature nodes; here those points are fixed when the field is built (x, then the nodes), so the
factor L is computed once, in float64, by an eigendecomposition (L = U sqrt(max(ev, 0)): no jitter, no
truncation; the smooth kernels of the zoo are numerically singular on fine node sets, where a
Cholesky factor needs a jitter that would change G2). Directions with ev = 0 are free standard
normals, which NUTS samples trivially. The class is private (not a zoo entry): the zoo-wide tests
build architectures from their constructor arguments, and this one exists only on its point set.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro

from .._errors import NNFTError
from ..architectures import Architecture
from ..architectures._base import normal


class _GaussianField(Architecture):
    """phi(points) = factor @ xi with xi ~ N(0, I_M): the NNGP Gaussian ensemble of `base` on `points`
    (M, d); `kernel` is the base's. `model`/`forward` accept exactly M points (the same ones; under
    jit only the count can be checked)."""

    base: Architecture
    locations: np.ndarray
    factor: np.ndarray
    d: int

    def model(self, x, dtype):
        m = self.factor.shape[0]
        xi = numpyro.sample("xi", normal(dtype, 1.0).expand([m]).to_event(1))
        if x is None:
            return None
        phi = self.forward({"xi": xi}, x)
        return numpyro.deterministic("phi", phi)

    def forward(self, theta, x):
        m = self.factor.shape[0]
        if x.shape[0] != m:
            raise NNFTError(f"x: this Gaussian field lives on its {m} points, got {x.shape[0]}")
        xi = theta["xi"]
        return jnp.asarray(self.factor, xi.dtype) @ xi

    def kernel(self, x1, x2):
        return self.base.kernel(x1, x2)

    def params(self) -> dict:
        out = {f"base_{k}": v for k, v in self.base.params().items()}
        out.update(base=self.base.name, n_points=int(self.locations.shape[0]))
        return out

    @property
    def covariance(self) -> np.ndarray:
        """L L^T: the field's covariance on its points (K up to rounding)."""
        return self.factor @ self.factor.T


def gaussian_field(arch: Architecture, points: np.ndarray) -> _GaussianField:
    """The Gaussian ensemble with `arch`'s NNGP kernel on `points` (M, d), as an `Architecture` that
    `nnft_ppl.deform` can deform and sample."""
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
    pts = arch.check_points(points, "points")
    k = np.asarray(arch.nngp_kernel(jnp.asarray(pts), jnp.asarray(pts)), np.float64)
    if not np.all(np.isfinite(k)):
        raise NNFTError(f"points: {arch.name}'s kernel is not finite on these points")
    ev, vec = np.linalg.eigh(0.5 * (k + k.T))
    if ev.min() < -1e-8 * max(ev.max(), 1e-300):
        raise NNFTError(f"arch: {arch.name}'s kernel is not positive semi-definite on these points")
    factor = vec * np.sqrt(np.clip(ev, 0.0, None))
    return _GaussianField(base=arch, locations=pts, factor=factor, d=arch.d)
