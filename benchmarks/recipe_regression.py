"""Recipes produce the same numbers for the same keys: compare the DataTrees of two report folders.

    python benchmarks/recipe_regression.py run RECIPE OUT [--small] [--set k=v ...]   # write a report
    python benchmarks/recipe_regression.py compare BEFORE AFTER                       # compare every .nc

Run a recipe at `--small` before and after a change (e.g. from a `git archive` of the old commit with
PYTHONPATH pointing at it), then compare: every numeric variable of every group must be identical
(NaNs equal), except wall-clock rates (names with `per_s`), which are reported, not compared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np
import xarray as xr

TIMING = ("per_s", "time", "elapsed")


def compare_trees(a: Path, b: Path) -> list[str]:
    """Differences between two DataTree files (empty: identical numbers)."""
    ta, tb = xr.open_datatree(a), xr.open_datatree(b)
    diffs = []
    pa = {n.path: n for n in ta.subtree}
    pb = {n.path: n for n in tb.subtree}
    if set(pa) != set(pb):
        diffs.append(f"{a.name}: groups differ: {sorted(set(pa) ^ set(pb))}")
    for path in sorted(set(pa) & set(pb)):
        da, db = pa[path].to_dataset(), pb[path].to_dataset()
        for v in sorted(set(da.variables) | set(db.variables)):
            if v not in da.variables or v not in db.variables:
                diffs.append(f"{a.name}{path}/{v}: only in one file")
                continue
            x, y = np.asarray(da[v].values), np.asarray(db[v].values)
            if any(t in str(v) for t in TIMING) or x.dtype.kind not in "biufc":
                continue
            if x.shape != y.shape or not np.array_equal(x, y, equal_nan=True):
                diff = np.nanmax(np.abs(x - y)) if x.shape == y.shape else "shape"
                diffs.append(f"{a.name}{path}/{v}: differs (max abs diff {diff})")
    return diffs


def compare(before: Path, after: Path) -> int:
    files = sorted(p.name for p in before.glob("*.nc"))
    if not files:
        print(f"no .nc files in {before}")
        return 1
    bad = []
    for f in files:
        if not (after / f).is_file():
            bad.append(f"{f}: missing in {after}")
            continue
        bad += compare_trees(before / f, after / f)
    for line in bad:
        print(line)
    print(f"{len(files)} files compared: {'identical numbers' if not bad else f'{len(bad)} differences'}")
    return 1 if bad else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("recipe")
    r.add_argument("out")
    r.add_argument("--small", action="store_true")
    r.add_argument("--set", action="append", default=[])
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    a = p.parse_args(argv)
    if a.cmd == "compare":
        return compare(a.before, a.after)
    from nnft_ppl.recipes import run_recipe

    kw = {"small": True} if a.small else {}
    if a.set:
        kw["overrides"] = a.set
    run_recipe(a.recipe, a.out, progress=False, **kw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
