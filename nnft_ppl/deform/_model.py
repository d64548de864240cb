"""The deformed model: an architecture's NumPyro prior times exp(-S_int[phi_theta])."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpyro
from jaxtyping import Array, Float
from numpyro import handlers

from .._errors import NNFTError
from ..architectures import Architecture
from ._potentials import Potential
from ._quadrature import Quadrature

Points = Float[Array, "P d"]
QuadFields = Float[Array, "*batch Q"]
Batch = Float[Array, "*batch"]
Scalar = Float[Array, ""]


class Deformed(eqx.Module):
    """The interacting ensemble P_lam(theta) ∝ P(theta) exp(-S_int[phi_theta]) with
    S_int = sum_q w_q V(phi_theta(z_q)) ≈ integral_box d^dz V(phi(z)) (physics sign: V > 0 at large
    |phi| suppresses large fields).

    Calling it is a NumPyro model: the architecture's sample sites, the deterministic `phi` at the
    observation points `x`, the deterministic `S_int_value`, and `numpyro.factor("S_int", -S_int)`.
    """

    arch: Architecture
    potential: Potential
    quad: Quadrature
    allow_unbounded: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if not isinstance(self.arch, Architecture):
            raise NNFTError(f"arch must be an Architecture, got {type(self.arch).__name__}")
        if not isinstance(self.potential, Potential):
            raise NNFTError(f"potential must be a Potential, got {type(self.potential).__name__}")
        if not isinstance(self.quad, Quadrature):
            raise NNFTError("quad must be a Quadrature (see make_quadrature)")
        if self.quad.d != self.arch.d:
            raise NNFTError(f"quad has d = {self.quad.d} but the architecture has d = {self.arch.d}")
        self.potential.check_bounded(self.allow_unbounded)

    def action(self, phi_quad: QuadFields, potential: Potential | None = None) -> Batch:
        """S_int from the field at the quadrature points."""
        v = (self.potential if potential is None else potential)(phi_quad)
        return jnp.sum(jnp.asarray(self.quad.weights, phi_quad.dtype) * v, axis=-1)

    def action_of_theta(self, theta: dict) -> Scalar:
        """S_int for one parameter draw (for landscape plots)."""
        return self.action(self.arch.apply(theta, jnp.asarray(self.quad.points)))

    def __call__(self, x: Points | None = None, dtype=jnp.float64, potential: Potential | None = None):
        """The NumPyro model; `potential` (same kind, other couplings) overrides the stored one
        without recompiling when passed as a traced model argument (used by lam scans)."""
        zq = jnp.asarray(self.quad.points, dtype)
        q = zq.shape[0]
        pts = zq if x is None else jnp.concatenate([jnp.asarray(x, dtype), zq], axis=0)
        with handlers.block(hide=["phi"]):
            phi_all = self.arch.prior(pts, dtype)
        s = self.action(phi_all[-q:], potential)
        numpyro.deterministic("S_int_value", s)
        numpyro.factor("S_int", -s)
        if x is None:
            return None
        return numpyro.deterministic("phi", phi_all[:-q])

    def metadata(self) -> dict:
        out = {
            "architecture": self.arch.name,
            "potential": self.potential.describe(),
            "potential_polynomial": self.potential.polynomial(),
        }
        out.update({f"arch_{k}": v for k, v in self.arch.params().items()})
        out.update(self.quad.metadata())
        return out


def deform(arch: Architecture, potential: Potential, quad: Quadrature, allow_unbounded: bool = False) -> Deformed:
    """The deformed ensemble of `arch` by `potential` integrated with `quad` (checks boundedness)."""
    return Deformed(arch, potential, quad, allow_unbounded)
