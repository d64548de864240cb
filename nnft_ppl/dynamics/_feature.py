"""Feature learning in G_t^(4)c: a trained ensemble's connected four-point function against (i) its
exact initial value and (ii) the lazy evolution of the very same networks.

The lazy (linearised, frozen-NTK) evolution of one network trained by gradient descent on the loss
(1/2) sum (phi(X) - Y)^2 is, in function space and exactly for the linearised model,
phi_{k+1}(x) = phi_k(x) - eta Theta_0(x, X) (phi_k(X) - Y), with the network's own empirical NTK at
initialisation Theta_0 (weighted by the per-site learning rates: muP's too). Applied to every network
of the ensemble, it carries G4c_0 forward as the frozen-kernel picture does at finite width. A
trained ensemble whose G4c_t departs from that, paired network by network (same blocks, so the
common Monte Carlo noise cancels), has learned features; under the NTK parametrisation the departure
shrinks with width.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._errors import NNFTError
from .._tensors import sorted_tuples
from ..architectures import ExactCumulants
from ..ensemble import cumulants
from ..stats import jackknife_se, se_threshold
from ..theory import exact_connected
from ._param import Parametrized, readout
from ._record import field_moment_sums


def linearized_fields(phi0, ntk0, y_train, learning_rate: float, every: int, n_records: int) -> np.ndarray:
    """Fields (n_records + 1, M, P) of the linearised networks after 0, every, 2 every, ... gradient
    steps, from each network's field phi0 (M, P) and empirical NTK ntk0 (M, P, P) at initialisation at
    points whose first n = len(y_train) are the training points."""
    phi = np.array(phi0, np.float64)
    ntk = np.asarray(ntk0, np.float64)
    y = np.asarray(y_train, np.float64)
    n = y.shape[0]
    out = [phi.copy()]
    for k in range(n_records * every):
        phi = phi - learning_rate * np.einsum("mpq,mq->mp", ntk[:, :, :n], phi[:, :n] - y)
        if (k + 1) % every == 0:
            out.append(phi.copy())
    return np.stack(out)


def exact_initial_g4c(model, x) -> tuple[np.ndarray, np.ndarray] | None:
    """The exact G4c at initialisation over the distinct tuples of `x` (and its numerical error) for
    an architecture with exact finite-width cumulants, in its parametrisation: "standard" and "ntk"
    share the zoo's prior; muP divides the readout part of phi by sqrt(N), so G4c by N^2. `None`
    where no exact cumulants exist."""
    arch = model.arch if isinstance(model, Parametrized) else model
    if not isinstance(arch, ExactCumulants):
        return None
    full, err = exact_connected(arch, x, 4, return_error=True)
    idx = tuple(np.asarray(sorted_tuples(np.asarray(x).shape[0], 4)).T)
    scale = 1.0
    if isinstance(model, Parametrized) and model.parametrization == "mup":
        scale = float(readout(arch)[1]) ** -2
    return scale * full[idx], scale * err[idx]


def _estimate(phi, n_blocks):
    ms = field_moment_sums(phi, 4, n_blocks)
    return cumulants(ms, sorted_tuples(phi.shape[1], 4)), float(ms.khat[4])


def g4c_departure(tree, eval_points, model=None, n_blocks: int = 16) -> xr.Dataset:
    """G4c at `eval_points` (indices into the tree's points) at the last record of a trained ensemble
    (`train_ensemble` with sgd and `record_ntk=True`, the training points first among its points).

    Variables over the distinct index tuples: `G4c_t` (trained), `G4c_lin` (the same networks
    linearised at t = 0), `G4c_0` (Monte Carlo at t = 0), each with `_se`; `departure` =
    G4c_t - G4c_lin with its paired jackknife SE and z; for a trained `model` (Architecture or
    Parametrized) with exact cumulants also `G4c_0_exact` and `change` = G4c_t - G4c_0_exact with
    G4c_t's SE (and the exact value's numerical error) and z. Attrs: the largest |z| of each (and of
    the Monte Carlo G4c_0 against the exact one), the Bonferroni 4-SE `threshold` over the tuples
    (Student t, blocks - 1 dof), and the Pareto k-hat of the order-4 summands per ensemble."""
    ens = tree["ensemble"]
    a = tree.attrs
    if a["optimizer"] != "sgd" or "ntk" not in ens:
        raise NNFTError("tree: g4c_departure needs a gradient-descent ('sgd') run with the NTK recorded")
    phi, ntk = ens.phi.values, ens.ntk.values
    y = tree["observed_data"].y_train.values
    n_rec = phi.shape[0] - 1
    every = int(a["steps"]) // n_rec
    lin = linearized_fields(phi[0], ntk[0], y, float(a["learning_rate"]), every, n_rec)
    ev = np.asarray(eval_points)
    b = min(n_blocks, phi.shape[1] // 2)
    (e_t, k_t), (e_lin, k_lin), (e_0, k_0) = (_estimate(f[:, ev], b) for f in (phi[-1], lin[-1], phi[0]))
    dep, dep_se = e_t.value - e_lin.value, jackknife_se(e_t.replicas - e_lin.replicas)
    tup = sorted_tuples(len(ev), 4)
    thr = se_threshold(len(tup), 4.0, dof=b - 1)
    data = {
        "G4c_t": ("tuple", e_t.value),
        "G4c_t_se": ("tuple", e_t.se),
        "G4c_lin": ("tuple", e_lin.value),
        "G4c_lin_se": ("tuple", e_lin.se),
        "G4c_0": ("tuple", e_0.value),
        "G4c_0_se": ("tuple", e_0.se),
        "departure": ("tuple", dep),
        "departure_se": ("tuple", dep_se),
        "departure_z": ("tuple", dep / _positive(dep_se)),
    }
    attrs = {"max_abs_z_departure": float(np.max(np.abs(data["departure_z"][1])))}
    exact = exact_initial_g4c(model, tree["constant_data"].x.values[ev]) if model is not None else None
    if exact is not None:
        se = np.hypot(e_t.se, exact[1])
        data |= {"G4c_0_exact": ("tuple", exact[0]), "change": ("tuple", e_t.value - exact[0])}
        data |= {"change_se": ("tuple", se), "change_z": ("tuple", (e_t.value - exact[0]) / _positive(se))}
        attrs["max_abs_z_change"] = float(np.max(np.abs(data["change_z"][1])))
        z0 = (e_0.value - exact[0]) / _positive(np.hypot(e_0.se, exact[1]))
        attrs["max_abs_z_initial_vs_exact"] = float(np.max(np.abs(z0)))
    attrs |= {"threshold": thr, "khat_4_t": k_t, "khat_4_lin": k_lin, "khat_4_0": k_0, "n_blocks": b}
    attrs |= {"time": float(ens.time[-1]), "eval_points": ev.tolist()}
    return xr.Dataset(data, coords={"tuple": [",".join(map(str, t)) for t in tup]}, attrs=attrs)


def _positive(se):
    return np.where(np.asarray(se) > 0, se, np.inf)
