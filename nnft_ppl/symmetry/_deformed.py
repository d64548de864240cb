"""phi^3 / phi^4 deformed ensembles by exact rejection sampling of prior draws.

The deformed density at the points is P_g(phi) ∝ P_0(phi) exp(-sum_i [g3 phi_i^3 + g4 phi_i^4]).
With g4 > 0 the weight is bounded by exp(P * 27 g3^4 / (256 g4^3)), so accepting a prior
draw with probability w / w_max gives exact, independent draws (kind "iid"). This is a
test fixture for small models; `nnft_ppl.deform` samples the continuum deformation by NUTS.
"""

from __future__ import annotations

import jax
import numpy as np
import xarray as xr
from jaxtyping import Float, PRNGKeyArray

from .._errors import NNFTError
from .._validate import integer, nonnegative, positive
from ._data import _points, draw_fields, fields_datatree


def deformed_ensemble(
    arch,
    x: Float[np.ndarray, "P d"],
    n: int,
    key: PRNGKeyArray,
    g3: float = 0.0,
    g4: float = 0.1,
    max_rounds: int = 50,
) -> xr.DataTree:
    """n exact i.i.d. draws of the phi^3 + phi^4 deformed ensemble of `arch` at points x."""
    x = _points("x", x)
    n = integer("n", n)
    g3 = float(g3)
    g4 = positive("g4", g4) if g3 != 0 else nonnegative("g4", g4)
    log_wmax = x.shape[0] * 27 * g3**4 / (256 * g4**3) if g3 != 0 else 0.0
    if log_wmax > 10:
        raise NNFTError(f"g3: acceptance too small (log bound {log_wmax:.1f}); raise g4 or lower g3")
    kept, total = [], 0
    for k in jax.random.split(key, max_rounds):
        ka, kb = jax.random.split(k)
        batch = draw_fields(arch, x, max(2 * n, 64), ka)[..., 0]
        logw = -np.sum(g3 * batch**3 + g4 * batch**4, -1) - log_wmax
        u = np.asarray(jax.random.uniform(kb, (batch.shape[0],)), np.float64)
        acc = batch[np.log(u) < logw]
        kept.append(acc)
        total += len(acc)
        if total >= n:
            break
    if total < n:
        raise NNFTError(f"g3/g4: only {total} of {n} draws accepted in {max_rounds} rounds")
    phi = np.concatenate(kept)[:n]
    return fields_datatree(phi[None], x, "iid", attrs={"g3": g3, "g4": g4, "model": "rejection-deformed"})
