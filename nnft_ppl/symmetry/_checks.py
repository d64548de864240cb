"""The built-in symmetry tests, registered in `SYMMETRY_TESTS` (see `_registry`).

Z2 (scalar fields) and internal SO(D) (vector outputs) run on any ensemble, stored or drawn;
translations, rotations, reflection positivity and cluster decomposition draw their own
transformed ensembles from the model (undeformed ensembles only), or, on a stored results
file, run where the file holds the transformed fields they need. The permutation test runs
only on stored correlator tensors (`G2`, `G2_se`, ...): on an ensemble its statistic vanishes
identically (it has no power there).
"""

from __future__ import annotations

import inspect
import re

import jax
import numpy as np

from . import invariance as inv  # module-qualified: the names are listed once, in __init__
from . import os_axioms as osa
from ._data import is_model
from ._registry import EnsembleContext, SymmetryCheck, register_symmetry_test
from .power import internal_so_power, rotation_power, translation_power, z2_power


def _power(fn, grid_arg: str):
    """A registry power scan (n, key, grid, alpha) -> dict from a scan function with its own defaults."""
    default_n = inspect.signature(fn).parameters["n"].default

    def scan(n, key, grid, alpha):
        kw = {"key": key, "alpha": alpha, "n": default_n if n is None else int(n)}
        if grid is not None:
            kw[grid_arg] = grid
        return {**fn(**kw), "n": kw["n"]}

    return scan


def _drawn(ctx: EnsembleContext) -> bool:
    """A model is at hand to draw transformed copies from (undeformed ensembles only)."""
    return not ctx.data_only and not ctx.deformed


def _scalar(ctx: EnsembleContext) -> bool:
    return ctx.fields.n_out == 1


def _stored_reflection(ctx: EnsembleContext) -> bool:
    f = ctx.fields
    return f.x_g is not None and f.x_g.shape[0] == 1 and bool(np.allclose(f.x_g[0], osa.reflect(f.x)))


def _translation(ctx: EnsembleContext):
    k_shift, k_ens = jax.random.split(ctx.key_for("translation"))
    shifts = np.asarray(jax.random.normal(k_shift, (2, ctx.d)), np.float64)
    return inv.translation_test(ctx.model, ctx.x, shifts, ctx.n, k_ens, alpha=ctx.alpha)


def _rotation(ctx: EnsembleContext):
    k_rot, k_ens = jax.random.split(ctx.key_for("rotation SO(d)"))
    return inv.rotation_test(ctx.model, ctx.x, inv.random_rotations(k_rot, ctx.d, 2), ctx.n, k_ens, alpha=ctx.alpha)


def _rp_ensemble(ctx: EnsembleContext):
    if ctx.data_only:
        return osa.reflection_positivity_test(ctx.tree, alpha=ctx.alpha, group=ctx.group)
    ens = osa.reflection_ensemble(ctx.model, ctx.x, ctx.n, ctx.key_for("reflection positivity (ensemble)"))
    return osa.reflection_positivity_test(ens, alpha=ctx.alpha)


def _cluster_applies(ctx: EnsembleContext) -> bool:
    if not _scalar(ctx):
        return False
    if _drawn(ctx):
        return True
    f = ctx.fields
    return ctx.data_only and f.phi_g is not None and f.phi.shape[2] == 2 and not _stored_reflection(ctx)


def _cluster(ctx: EnsembleContext):
    if ctx.data_only:
        return osa.cluster_test(ctx.tree, alpha=ctx.alpha, group=ctx.group)
    pair = np.zeros((2, ctx.d))
    pair[1, -1] = 0.3
    r = np.asarray(ctx.spec.get("distances", [0.5, 1.0, 2.0, 4.0, 8.0]), np.float64)
    ens = osa.cluster_ensemble(ctx.model, pair, r, ctx.n, ctx.key_for("cluster decomposition"))
    return osa.cluster_test(ens, alpha=ctx.alpha)


_CORRELATOR = re.compile(r"^G(\d)c?$")


def stored_correlators(tree) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(path, tensor, se) of every stored correlator tensor `G<n>`/`G<n>c` with its `_se` in the tree."""
    out = []
    for node in tree.subtree:
        ds = node.dataset
        for name in ds.data_vars:
            if _CORRELATOR.match(str(name)) and f"{name}_se" in ds.data_vars:
                g = np.asarray(ds[name].values, np.float64)
                if g.ndim >= 2 and len(set(g.shape)) == 1:
                    out.append((f"{node.path.rstrip('/')}/{name}", g, np.asarray(ds[f"{name}_se"].values, np.float64)))
    return out


def _permutation(ctx: EnsembleContext):
    from ._core import z_result

    found = stored_correlators(ctx.tree)
    pairs = [inv.permutation_diffs(g, s) for _, g, s in found]
    d = np.concatenate([p[0] for p in pairs])
    e = np.concatenate([p[1] for p in pairs])
    names = ", ".join(p for p, _, _ in found)
    return z_result("permutation (OS3): stored G_n symmetric", d, e, np.inf, "iid", ctx.alpha, note=names)


for _check in (
    SymmetryCheck(
        "Z2",
        _scalar,
        lambda c: inv.z2_test(c.tree, alpha=c.alpha, group=c.group),
        _power(z2_power, "kappa"),
        "kappa (phi^3 coupling, V = kappa phi^3/3! + 2.4 phi^4/4!)",
        (0.0, 0.3, 0.6, 1.2, 1.8),
    ),
    SymmetryCheck(
        "rotation SO(d)",
        lambda c: _drawn(c) and c.d >= 2,
        _rotation,
        _power(rotation_power, "eps"),
        "eps (input stretch diag(1+eps, 1))",
        (0.0, 0.1, 0.2, 0.4, 0.8),
    ),
    SymmetryCheck(
        "translation",
        _drawn,
        _translation,
        _power(translation_power, "eps"),
        "eps (CosNet + eps ErfNet)",
        (0.0, 0.25, 0.5, 1.0, 2.0),
    ),
    SymmetryCheck(
        "internal SO(D)",
        lambda c: c.fields.n_out >= 2,
        lambda c: inv.internal_so_test(c.tree, c.key_for("internal SO(D)"), alpha=c.alpha, group=c.group),
        _power(internal_so_power, "mu"),
        "mu (last-layer mean)",
        (0.0, 0.0025, 0.005, 0.01, 0.02, 0.05),
    ),
    SymmetryCheck(
        "reflection positivity (kernel)",
        lambda c: _drawn(c) and _scalar(c) and is_model(c.model),
        lambda c: osa.reflection_positivity_kernel(c.model.nngp_kernel, c.x, alpha=c.alpha),
    ),
    SymmetryCheck(
        "reflection positivity (ensemble)",
        lambda c: _scalar(c) and (_drawn(c) or (c.data_only and _stored_reflection(c))),
        _rp_ensemble,
    ),
    SymmetryCheck(
        "cluster decomposition",
        _cluster_applies,
        _cluster,
    ),
    SymmetryCheck("permutation (OS3)", lambda c: bool(stored_correlators(c.tree)), _permutation),
):
    register_symmetry_test(_check, replace=True)
