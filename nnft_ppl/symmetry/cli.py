"""`nnft symmetry <recipe or results file> [--out DIR]`: the symmetry report."""

from __future__ import annotations

from pathlib import Path


def _cmd(a) -> int:
    from .._errors import NNFTError

    src = Path(a.source)
    if src.suffix in (".nc", ".h5", ".netcdf"):
        import xarray as xr

        from .report import report_tree, table, write_report

        if not src.is_file():
            raise NNFTError(f"source: no such file {str(src)!r}")
        tree = xr.open_datatree(src).load()
        out = Path(a.out or f"report/{src.stem}_symmetry")
        tree, results = report_tree(tree, group=a.group)
        write_report({src.stem: results}, out)
        out.mkdir(parents=True, exist_ok=True)
        tree.to_netcdf(out / f"{src.stem}_symmetry.nc")
        print(f"## {src.stem}\n{table(results)}")
    else:
        from ..recipes import resolve_recipe, run_recipe

        recipe = resolve_recipe(a.source)
        out = Path(a.out or f"report/{recipe.stem}")
        run_recipe(recipe, out, progress=True)
    print(f"nnft: wrote {out}/summary.md")
    return 0


def add_parser(subparsers) -> None:
    """Add the `symmetry` subcommand."""
    p = subparsers.add_parser("symmetry", help="symmetry and Osterwalder-Schrader report for ensembles")
    p.add_argument("source", help="a recipe of kind 'symmetry', or a results file (.nc DataTree with phi)")
    p.add_argument("--out", help="report folder (default report/<name>)")
    p.add_argument("--group", default="posterior", help="group holding phi in a results file")
    p.set_defaults(fn=_cmd)
