"""Results travel with the ensemble: a `symmetry` group in the DataTree, one row per test (was `_arviz.py`)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._errors import NNFTError
from ._core import SymmetryResult

COLUMNS = ("estimate", "se", "statistic", "p_value", "n_tests", "passed")


def attach_results(tree: xr.DataTree, results: list[SymmetryResult], group: str = "symmetry") -> xr.DataTree:
    """Write a summary of `results` into `tree[group]` (dim `test`); returns the tree (modified in place).

    Per test: the worst entry's estimate and standard error, the family statistic,
    Holm-corrected p-value, number of entries and the verdict; plus curves in `extra`
    that are 1-D arrays, as `<test index>_<name>` variables.
    """
    if not isinstance(tree, xr.DataTree):
        raise NNFTError(f"tree must be an xarray DataTree, got {type(tree).__name__}")
    rows = [r.row() for r in results]
    data = {
        "estimate": ("test", np.array([r["estimate"] for r in rows], np.float64)),
        "se": ("test", np.array([r["se"] for r in rows], np.float64)),
        "statistic": ("test", np.array([r["statistic"] for r in rows], np.float64)),
        "p_value": ("test", np.array([r["p_value"] for r in rows], np.float64)),
        "n_tests": ("test", np.array([r["n_tests"] for r in rows], np.int64)),
        "passed": ("test", np.array([r["verdict"] == "pass" for r in rows], np.int8)),
        "alpha": ("test", np.array([res.alpha for res in results], np.float64)),
    }
    for i, res in enumerate(results):
        for k, v in res.extra.items():
            v = np.asarray(v)
            if v.ndim == 1 and v.dtype.kind in "fiu":
                data[f"t{i}_{k}"] = (f"t{i}_{k}_dim", v.astype(np.float64))
    ds = xr.Dataset(
        data,
        coords={"test": [r["test"] for r in rows]},
        attrs={"correction": "Holm (family-wise)", "kind": results[0].kind if results else ""},
    )
    tree[group] = xr.DataTree(ds)
    return tree


def read_results(tree: xr.DataTree, group: str = "symmetry") -> dict[str, dict]:
    """The stored summary rows by test name."""
    if group not in tree.children:
        raise NNFTError(f"tree has no group {group!r}")
    ds = tree[group].to_dataset()
    out = {}
    for i, name in enumerate(ds["test"].values):
        out[str(name)] = {c: ds[c].values[i].item() for c in COLUMNS}
        out[str(name)]["passed"] = bool(out[str(name)]["passed"])
    return out
