"""A shared checker (not a test file): every tree or Dataset the library writes follows ArviZ's
conventions and the library's data conventions (docs/architecture.md, "Data conventions"), and
arviz-stats / arviz-plots run on it where they apply."""

from __future__ import annotations

import numpy as np
import xarray as xr

#: ArviZ's standard sample_stats of an MCMC run (arviz-base's names for NumPyro's fields)
MCMC_STATS = {"energy", "diverging", "n_steps", "acceptance_rate", "step_size", "lp", "tree_depth"}
#: dims named after their point, each must carry a coordinate
POINT_DIMS = ("point", "test_point") + tuple(f"point_{i}" for i in range(1, 7))


def _nodes(tree):
    if isinstance(tree, xr.Dataset):
        return [("", tree)]
    return [(node.path, node.to_dataset()) for node in tree.subtree if node.has_data or node.has_attrs]


def check_dataset(ds: xr.Dataset, where: str = "") -> None:
    """No `*_dim_<i>` dims; every point dim carries a coordinate of its own length."""
    bad = [d for d in ds.dims if "_dim_" in str(d) or str(d) in {f"p{i}" for i in range(1, 7)}]
    assert not bad, f"{where}: unnamed or old-style dims {bad}"
    for d in ds.dims:
        if d in POINT_DIMS:
            assert d in ds.coords and ds.coords[d].shape == (ds.sizes[d],), f"{where}: dim {d} has no coordinate"
    if "x" in ds.variables and ds["x"].ndim == 2 and ds["x"].dims[0] in POINT_DIMS and ds["x"].shape[1] == 1:
        dim = ds["x"].dims[0]  # in d = 1 the point coordinate is the position
        np.testing.assert_array_equal(ds[dim].values, ds["x"].values[:, 0], err_msg=f"{where}: {dim} != x")


def check_attrs(attrs: dict, where: str = "") -> None:
    """The library version and the architecture's name (its parameters as `arch_*` or `param_*`)."""
    assert "nnft_ppl_version" in attrs, f"{where}: no nnft_ppl_version in attrs {sorted(attrs)}"
    if "architecture" in attrs:
        assert any(k.startswith(("arch_", "param_")) for k in attrs) or "params" in attrs, f"{where}: no params"


def check_tree(tree, *, mcmc: bool | None = None, plots: bool = True, var_names=None) -> None:
    """Assert the conventions on a DataTree (or Dataset) and run ArviZ on it.

    Every group: named dims, point dims with coordinates, the version (and parameters) in its own
    or an ancestor's attrs. Each run (the tree, or each child holding `posterior`/`prior`, as in the
    deform recipes' one-group-per-run files): MCMC runs (a `sample_stats` group) have `posterior`
    and the standard sample_stats; i.i.d. runs (`kind` "iid") have no `posterior`. arviz-stats
    `summary`/`ess`/`rhat` run on the draws and arviz-plots `plot_forest`/`plot_trace_dist` (and
    `plot_energy` for MCMC) draw them."""
    if isinstance(tree, xr.Dataset):
        check_dataset(tree, "root")
        check_attrs(dict(tree.attrs), "root")
        return
    for node in tree.subtree:
        ds = node.to_dataset()
        check_dataset(ds, node.path)
        if ds.data_vars:
            owner = next((n for n in (node, *node.parents) if "nnft_ppl_version" in n.attrs), node)
            check_attrs(dict(owner.attrs), node.path)
    draw_groups = {"posterior", "prior"}
    runs = [tree] if draw_groups & set(tree.children) else []
    runs += [c for c in tree.children.values() if draw_groups & set(c.children)] if not runs else []
    for run in runs:
        _check_run(run, mcmc, plots, var_names)


def _check_run(tree, mcmc, plots, var_names) -> None:
    groups = set(tree.children)
    is_mcmc = "sample_stats" in groups if mcmc is None else mcmc
    iid = any(tree[g].attrs.get("kind") == "iid" for g in groups) or tree.attrs.get("kind") == "iid"
    if is_mcmc:
        assert "posterior" in groups, f"MCMC tree without posterior: {sorted(groups)}"
        stats = set(tree["sample_stats"].data_vars)
        assert MCMC_STATS <= stats, f"sample_stats lacks {sorted(MCMC_STATS - stats)}"
    if iid:
        assert "posterior" not in groups, "i.i.d. draws in `posterior`"
    draws = "posterior" if "posterior" in groups else "prior"
    _run_arviz(tree, draws, is_mcmc, plots, var_names)


def _run_arviz(tree, group: str, is_mcmc: bool, plots: bool, var_names) -> None:
    import arviz_stats as azs

    ds = tree[group].to_dataset()
    # the first few draw-indexed variables that vary (R-hat and ESS of a quantity that is the same in
    # every draw, e.g. the interaction of a free theory, are undefined: NaN is right there)
    names = (
        var_names
        or [v for v in ds.data_vars if ds[v].ndim <= 4 and "draw" in ds[v].dims and float(ds[v].std()) > 0][:3]
    )
    if not names:
        return
    summ = azs.summary(tree, group=group, var_names=names)
    assert len(summ) > 0 and np.isfinite(np.asarray(summ["mean"], np.float64)).all()
    ess = azs.ess(tree, group=group, var_names=names)
    assert all(np.isfinite(np.asarray(ess[v])).any() for v in names)
    if tree[group].sizes.get("chain", 1) > 1:
        rhat = azs.rhat(tree, group=group, var_names=names)
        assert all(np.isfinite(np.asarray(rhat[v])).any() for v in names)
    if not plots:
        return
    import matplotlib

    matplotlib.use("Agg", force=False)
    import arviz_plots as azp
    import matplotlib.pyplot as plt

    try:
        azp.plot_forest(tree, group=group, var_names=names[:1])
        azp.plot_trace_dist(tree, group=group, var_names=names[:1])
        if is_mcmc:
            azp.plot_energy(tree)
    finally:
        plt.close("all")
