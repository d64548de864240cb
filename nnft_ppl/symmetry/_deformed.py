"""Polynomially deformed ensembles by exact rejection sampling of prior draws.

The library's one interaction convention (`nnft_ppl.deform`): the deformed density at the points is

    P_V(phi) ∝ P_0(phi) exp(-S_int),   S_int = sum_i w_i V(phi(x_i)),

with V a `nnft_ppl.deform.Potential` (e.g. `Phi3(kappa) + Phi4(lam)` = kappa phi^3/3! + lam phi^4/4!,
lam > 0 stable) and w_i the points' weights (default 1: the points are the sites of a unit lattice,
so S_int is the sum of V over the points). A polynomial V bounded below has a global minimum V_min, so
the weight exp(-S_int) is bounded by exp(-V_min sum_i w_i) and accepting a prior draw with probability
w / w_max gives exact, independent draws (kind "iid"). This is a test fixture for small models;
`nnft_ppl.deform` samples the continuum deformation by NUTS.

Earlier releases spelled the couplings g3, g4 with weight exp(-sum_i [g3 phi_i^3 + g4 phi_i^4]); they
are still accepted (one release, with a DeprecationWarning) as Phi3(6 g3) + Phi4(24 g4).
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
import xarray as xr
from jaxtyping import Float, PRNGKeyArray

from .._errors import NNFTError
from .._validate import integer
from ..deform import Phi3, Phi4, Potential
from ._data import _points, draw_fields, fields_datatree

#: the default deformation: lam phi^4/4! with lam = 2.4 (the former default g4 = 0.1)
DEFAULT_POTENTIAL = Phi4(2.4)


def from_g(g3: float = 0.0, g4: float = 0.1) -> Potential:
    """The potential of the former convention exp(-sum_i [g3 phi_i^3 + g4 phi_i^4]): Phi3(6 g3) + Phi4(24 g4)."""
    g3, g4 = float(g3), float(g4)
    return Phi4(24.0 * g4) if g3 == 0.0 else Phi3(6.0 * g3) + Phi4(24.0 * g4)


def _legacy(potential, g3, g4) -> Potential:
    if isinstance(potential, (int, float)) and not isinstance(potential, bool):  # old positional g3
        potential, g3 = None, potential
    if g3 is None and g4 is None:
        return DEFAULT_POTENTIAL if potential is None else potential
    if potential is not None:
        raise NNFTError("potential: pass either a Potential or the deprecated g3/g4, not both")
    warnings.warn(
        "deformed_ensemble(g3=, g4=) is deprecated: pass potential=Phi3(kappa) + Phi4(lam) (the library's "
        "convention V = kappa phi^3/3! + lam phi^4/4!); g3, g4 map to kappa = 6 g3, lam = 24 g4",
        DeprecationWarning,
        stacklevel=3,
    )
    return from_g(0.0 if g3 is None else g3, 0.1 if g4 is None else g4)


def _polynomial(potential: Potential) -> np.ndarray:
    """Coefficients of V in increasing powers; NNFTError unless V is a polynomial bounded below."""
    if not isinstance(potential, Potential):
        raise NNFTError(f"potential must be a nnft_ppl.deform.Potential, got {type(potential).__name__}")
    c = potential.coefficients()
    if c is None:
        raise NNFTError(f"potential: {potential.describe()} is not a polynomial; rejection sampling needs its minimum")
    potential.check_bounded()
    out = np.zeros(max(c, default=0) + 1)
    for k, v in c.items():
        out[k] += v
    return out


def _minimum(coef: np.ndarray) -> float:
    """The global minimum over the reals of a polynomial bounded below (0 for the zero polynomial)."""
    poly = np.polynomial.Polynomial(coef)
    crit = poly.deriv().roots() if coef.size > 1 else np.array([])
    real = np.real(crit[np.abs(np.imag(crit)) < 1e-9 * (1 + np.abs(crit))])
    return float(min(poly(np.concatenate([real, [0.0]]))))


def deformed_ensemble(
    arch,
    x: Float[np.ndarray, "P d"],
    n: int,
    key: PRNGKeyArray,
    potential: Potential | None = None,
    *,
    weights: Float[np.ndarray, " P"] | None = None,
    max_rounds: int = 50,
    g3: float | None = None,
    g4: float | None = None,
) -> xr.DataTree:
    """n exact i.i.d. draws of the ensemble of `arch` at points x deformed by exp(-sum_i w_i V(phi(x_i))).

    `potential`: a polynomial `Potential` bounded below (default `Phi4(2.4)`); `weights`: w_i (default 1).
    `g3`/`g4` are the deprecated spelling of `Phi3(6 g3) + Phi4(24 g4)`.
    """
    potential = _legacy(potential, g3, g4)
    x = _points("x", x)
    n = integer("n", n)
    coef = _polynomial(potential)
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (x.shape[0],) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise NNFTError(f"weights: need {x.shape[0]} finite non-negative numbers, got shape {w.shape}")
    log_wmax = -_minimum(coef) * float(w.sum())
    if log_wmax > 10:
        raise NNFTError(f"potential: acceptance too small (log bound {log_wmax:.1f}) for {potential.describe()}")
    poly = np.polynomial.Polynomial(coef)
    kept, total = [], 0
    for k in jax.random.split(key, max_rounds):
        ka, kb = jax.random.split(k)
        batch = draw_fields(arch, x, max(2 * n, 64), ka)[..., 0]
        logw = -(poly(batch) @ w) - log_wmax
        u = np.asarray(jax.random.uniform(kb, (batch.shape[0],)), np.float64)
        acc = batch[np.log(u) < logw]
        kept.append(acc)
        total += len(acc)
        if total >= n:
            break
    if total < n:
        raise NNFTError(f"potential: only {total} of {n} draws accepted in {max_rounds} rounds")
    phi = np.concatenate(kept)[:n]
    attrs = {"potential": potential.describe(), "potential_polynomial": potential.polynomial()}
    return fields_datatree(phi[None], x, "iid", attrs={**attrs, "model": "rejection-deformed"})
