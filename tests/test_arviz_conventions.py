"""The shared checker (tests/arviz_conventions.py) rejects each broken convention it claims to check
and passes a conforming tree (synthetic draws, no sampling; < 3 s)."""

import numpy as np
import pytest
import xarray as xr
from arviz_base import from_dict
from arviz_conventions import check_tree

import nnft_ppl
from nnft_ppl import symmetry as S
from nnft_ppl.ensemble._dataset import base_dataset

X = np.array([[-0.5], [0.0], [0.5]])


def _mcmc_tree(stats=("energy", "diverging", "n_steps", "acceptance_rate", "step_size", "lp", "tree_depth")):
    rng = np.random.default_rng(0)
    st = {k: rng.normal(size=(2, 50)) for k in stats}
    if "diverging" in st:
        st["diverging"] = np.zeros((2, 50), bool)
    dt = from_dict(
        {"posterior": {"phi": rng.normal(size=(2, 50, 3))}, "sample_stats": st, "constant_data": {"x": X}},
        dims={"phi": ["point"], "x": ["point", "input_dim"]},
        coords={"point": X[:, 0], "input_dim": [0]},
    )
    dt.attrs.update(architecture="CosNet", arch_width=4, nnft_ppl_version=nnft_ppl.__version__)
    return dt


def test_conforming_trees_pass():
    check_tree(_mcmc_tree())  # arviz-stats summary/ess/rhat, plot_forest/trace_dist/energy
    check_tree(base_dataset(X, {"architecture": "ErfNet", "params": {"width": 3}}))


def test_each_broken_convention_is_rejected():
    no_energy = _mcmc_tree(stats=("diverging", "n_steps"))
    with pytest.raises(AssertionError, match="energy"):
        check_tree(no_energy, plots=False)
    unversioned = _mcmc_tree()
    del unversioned.attrs["nnft_ppl_version"]
    with pytest.raises(AssertionError, match="nnft_ppl_version"):
        check_tree(unversioned, plots=False)
    unnamed = xr.Dataset({"W0": (("chain", "draw", "W0_dim_0"), np.zeros((1, 5, 2)))}, attrs={"nnft_ppl_version": "0"})
    with pytest.raises(AssertionError, match="W0_dim_0"):
        check_tree(unnamed)
    old = xr.Dataset({"G2": (("p1", "p2"), np.eye(3))}, attrs={"nnft_ppl_version": "0"})
    with pytest.raises(AssertionError, match="p1"):
        check_tree(old)
    no_coord = xr.Dataset({"G2": (("point_1", "point_2"), np.eye(3))}, attrs={"nnft_ppl_version": "0"})
    with pytest.raises(AssertionError, match="no coordinate"):
        check_tree(no_coord)
    iid = S.fields_datatree(np.zeros((1, 40, 3)), X, "iid")
    iid["posterior"] = iid["prior"].to_dataset()  # i.i.d. draws filed as MCMC draws
    with pytest.raises(AssertionError, match="posterior"):
        check_tree(iid, plots=False)
    no_params = _mcmc_tree()
    del no_params.attrs["arch_width"]
    with pytest.raises(AssertionError, match="params"):
        check_tree(no_params, plots=False)


def test_one_group_per_run_files():
    """The deform recipes' results.nc layout: a group per run (each checked as a tree) and a summary group."""
    from nnft_ppl.deform.recipes import _merge_trees

    scan = xr.Dataset({"phi2": ("lam", [0.1, 0.2])}, coords={"lam": [0.1, 0.5]})
    merged = _merge_trees({"lam_0": _mcmc_tree(), "lam_1": _mcmc_tree()}, scan)
    check_tree(merged, plots=False)
    assert merged.attrs["nnft_ppl_version"] == nnft_ppl.__version__ and merged.attrs["arch_width"] == 4
    broken = merged.copy()
    broken["lam_1/sample_stats"] = broken["lam_1/sample_stats"].to_dataset().drop_vars("energy")
    with pytest.raises(AssertionError, match="energy"):
        check_tree(broken, plots=False)
