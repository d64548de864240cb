"""Local interaction potentials V(phi) for deformed NN field theories.

Sign convention (physics): the deformed ensemble is

    P_lam(theta) ∝ P(theta) exp(-S_int[phi_theta]),   S_int = integral_box d^dx V(phi(x)),

so `Phi4(lam)` with lam > 0 is a *stable* interaction. (The seed notes write exp(+integral V)
with the sign absorbed into V; here V carries the physical sign.)

Potentials are small equinox Modules that add: `Phi4(1.0) + Phi3(0.5)` is a `SumPotential`.
Polynomial potentials expose their Taylor coefficients `coefficients()` = {k: c_k} with
V = sum_k c_k phi^k, which the perturbation theory uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._errors import NNFTError


def _finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise NNFTError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(v):
        raise NNFTError(f"{name} must be finite, got {value!r}")
    return v


#: field values every potential must map elementwise to finite values
_PROBE = (-3.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 3.0)


def _check_elementwise(pot) -> None:
    """NNFTError unless V maps an array of field values elementwise to finite values."""
    probe = jnp.asarray(_PROBE)
    try:
        v = jnp.asarray(pot(probe))
    except NNFTError:
        raise
    except Exception as e:  # a user's function: report it as bad input, naming it
        raise NNFTError(f"potential {pot.describe()}: V(phi) fails on an array ({type(e).__name__}: {e})") from None
    if v.shape != probe.shape:
        raise NNFTError(
            f"potential {pot.describe()}: V must act elementwise (phi of shape {probe.shape} gave shape {v.shape})"
        )
    if not bool(jnp.all(jnp.isfinite(v))):
        bad = [p for p, ok in zip(_PROBE, np.asarray(jnp.isfinite(v)), strict=True) if not ok]
        raise NNFTError(f"potential {pot.describe()}: V is not finite at phi = {bad}")


class Potential(eqx.Module):
    """A local potential V(phi), applied elementwise."""

    def __call__(self, phi: Float[Array, ...]) -> Float[Array, ...]:
        raise NotImplementedError

    def coefficients(self) -> dict[int, float] | None:
        """{k: c_k} with V = sum_k c_k phi^k, or None for a non-polynomial potential."""
        return None

    def __add__(self, other: Potential) -> SumPotential:
        if not isinstance(other, Potential):
            return NotImplemented
        left = self.terms if isinstance(self, SumPotential) else (self,)
        right = other.terms if isinstance(other, SumPotential) else (other,)
        return SumPotential(left + right)

    def describe(self) -> str:
        return repr(self)

    def polynomial(self) -> str:
        """The nonzero coefficients {k: c_k} of V as text (the same for equal polynomials however
        composed, e.g. Phi3(0) + Phi4(1) and Phi4(1)); the description for non-polynomials."""
        c = self.coefficients()
        if c is None:
            return self.describe()
        return repr({k: float(f"{v:.12g}") for k, v in sorted(c.items()) if v != 0.0})

    def check_bounded(self, allow_unbounded: bool = False) -> None:
        """Raise NNFTError unless V is bounded below (or `allow_unbounded` is set).

        A polynomial is bounded below iff its leading power is even with a positive
        coefficient. A `Custom` potential is checked numerically: V must be finite and
        non-decreasing in |phi| along phi = ±10, ±100, ±1000. Every potential must act elementwise
        and be finite on [-3, 3] (zero included).
        """
        _check_elementwise(self)
        if allow_unbounded:
            return
        c = self.coefficients()
        if c is not None:
            nz = {k: v for k, v in c.items() if v != 0.0}
            if not nz:
                return
            top = max(nz)
            if top % 2 == 1 or nz[top] < 0:
                raise NNFTError(
                    f"potential {self.describe()} is unbounded below (leading term {nz[top]:g} phi^{top}); "
                    "exp(-S_int) is not normalisable. Add a stabilising even term (e.g. Phi4 with lam > 0), "
                    "or pass allow_unbounded=True for formal perturbative use only"
                )
            return
        big = jnp.asarray([10.0, 100.0, 1000.0])
        for s in (1.0, -1.0):
            v = [float(x) for x in self(s * big)]
            if not all(math.isfinite(t) for t in v) or not (v[0] <= v[1] <= v[2]):
                raise NNFTError(
                    f"potential {self.describe()} does not look bounded below (V at phi = {s * 10:+g}, "
                    f"{s * 100:+g}, {s * 1000:+g} is {v}); pass allow_unbounded=True to use it anyway"
                )


class _Polynomial(Potential):
    def __call__(self, phi):
        out = jnp.zeros_like(phi)
        for k, c in sorted(self.coefficients().items()):
            out = out + c * phi**k
        return out


class Phi4(_Polynomial):
    """V = lam phi^4 / 4!, i.e. S_int = +(lam/4!) integral phi^4 and weight exp(-S_int): lam > 0 is stable."""

    lam: float

    def __init__(self, lam: float):
        self.lam = _finite("lam", lam)

    def coefficients(self):
        return {4: self.lam / 24.0}

    def describe(self):
        return f"Phi4(lam={self.lam:g})"


class Phi6(_Polynomial):
    """V = g phi^6 / 6!  (g > 0 stable)."""

    g: float

    def __init__(self, g: float):
        self.g = _finite("g", g)

    def coefficients(self):
        return {6: self.g / 720.0}

    def describe(self):
        return f"Phi6(g={self.g:g})"


class Phi3(_Polynomial):
    """V = kappa phi^3 / 3!: odd, breaks phi -> -phi. Unbounded below on its own, so it must be
    combined with a stabilising even term (e.g. `Phi3(k) + Phi4(lam)`); alone it is accepted only
    with `allow_unbounded=True`, for formal perturbation theory."""

    kappa: float

    def __init__(self, kappa: float):
        self.kappa = _finite("kappa", kappa)

    def coefficients(self):
        return {3: self.kappa / 6.0}

    def describe(self):
        return f"Phi3(kappa={self.kappa:g})"


class Mass(_Polynomial):
    """V = m2 phi^2 / 2 (a mass shift; m2 < 0 alone is unbounded)."""

    m2: float

    def __init__(self, m2: float):
        self.m2 = _finite("m2", m2)

    def coefficients(self):
        return {2: self.m2 / 2.0}

    def describe(self):
        return f"Mass(m2={self.m2:g})"


class DoubleWell(_Polynomial):
    """V = m2 phi^2 / 2 + lam phi^4 / 4! with m2 < 0 and lam > 0: minima at phi = ±sqrt(-6 m2 / lam)."""

    m2: float
    lam: float

    def __init__(self, m2: float, lam: float):
        self.m2 = _finite("m2", m2)
        self.lam = _finite("lam", lam)
        if self.m2 >= 0:
            raise NNFTError(f"m2 must be < 0 for a double well, got {m2!r} (use Mass + Phi4 for m2 >= 0)")
        if self.lam <= 0:
            raise NNFTError(f"lam must be > 0 for a double well (bounded below), got {lam!r}")

    def coefficients(self):
        return {2: self.m2 / 2.0, 4: self.lam / 24.0}

    def vacua(self) -> tuple[float, float]:
        v = math.sqrt(-6.0 * self.m2 / self.lam)
        return (-v, v)

    def describe(self):
        return f"DoubleWell(m2={self.m2:g}, lam={self.lam:g})"


class Custom(Potential):
    """V = fn(phi) for a user-supplied elementwise JAX function (no perturbation theory)."""

    fn: Callable = eqx.field(static=True)
    name: str = eqx.field(static=True, default="custom")

    def __call__(self, phi):
        return self.fn(phi)

    def describe(self):
        return f"Custom({self.name})"


class SumPotential(Potential):
    """V1 + V2 + ...; polynomial iff every term is."""

    terms: tuple

    def __call__(self, phi):
        out = jnp.zeros_like(phi)
        for t in self.terms:
            out = out + t(phi)
        return out

    def coefficients(self):
        out: dict[int, float] = {}
        for t in self.terms:
            c = t.coefficients()
            if c is None:
                return None
            for k, v in c.items():
                out[k] = out.get(k, 0.0) + v
        return out

    def describe(self):
        return " + ".join(t.describe() for t in self.terms)


def potential_from_spec(spec: dict) -> Potential:
    """A potential from a recipe table, e.g. {"phi4" = 1.0, "phi3" = 0.2} or {"double_well" = {m2, lam}}."""
    makers = {"phi4": Phi4, "phi6": Phi6, "phi3": Phi3, "mass": Mass}
    terms: list[Potential] = []
    for k, v in spec.items():
        if k == "double_well":
            terms.append(DoubleWell(**v))
        elif k in makers:
            terms.append(makers[k](v))
        else:
            raise NNFTError(f"potential: unknown term {k!r}; use {sorted(makers) + ['double_well']}")
    if not terms:
        raise NNFTError("potential: empty table")
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out
