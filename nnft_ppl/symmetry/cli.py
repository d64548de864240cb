"""`nnft symmetry <recipe or results file> [--out DIR]`: the symmetry report."""

from __future__ import annotations

from pathlib import Path

from .._errors import NNFTError

RESULT_SUFFIXES = (".nc", ".h5", ".netcdf")


def open_results(src: Path):
    """A results file as a loaded DataTree; an unreadable, truncated or foreign file is an `NNFTError`."""
    import xarray as xr

    if not src.is_file():
        raise NNFTError(f"source: no such file {str(src)!r}")
    try:
        return xr.open_datatree(src).load()
    except Exception as e:  # netCDF/HDF5 raise OSError, ValueError, KeyError... for damaged files
        raise NNFTError(f"source: cannot read {str(src)!r} as a netCDF DataTree ({type(e).__name__}: {e})") from None


def _from_results(a) -> Path:
    from .._atomic import report_folder
    from .report import report_tree, table, write_report

    src = Path(a.source)
    tree = open_results(src)
    out = Path(a.out or f"report/{src.stem}_symmetry")
    with report_folder(out, a.force, {"source": str(src), "kind": "symmetry"}) as tmp:
        try:
            tree, results = report_tree(tree, **({} if a.group is None else {"group": a.group}))
        except (KeyError, ValueError, IndexError) as e:
            raise NNFTError(f"source: {src.name} holds no field ensemble to test ({type(e).__name__}: {e})") from None
        write_report({src.stem: results}, tmp)
        tree.to_netcdf(tmp / f"{src.stem}_symmetry.nc")
    if not a.quiet:
        print(f"## {src.stem}\n{table(results)}")
    return out


def _cmd(a) -> int:
    from ..cli import run_from_args

    if Path(a.source).suffix in RESULT_SUFFIXES:
        if a.set or a.small:
            raise NNFTError("--set/--small: they change a recipe; a results file is reported as it is")
        out = _from_results(a)
    else:
        a.recipe = a.source
        out, _ = run_from_args(a, kind="symmetry")
    print(f"nnft: wrote {out}/summary.md")
    return 0


def add_parser(subparsers) -> None:
    """Add the `symmetry` subcommand."""
    from ..cli import add_run_options

    p = subparsers.add_parser("symmetry", help="symmetry and Osterwalder-Schrader report for ensembles")
    p.add_argument("source", help="a recipe of kind 'symmetry', or a results file (.nc DataTree with phi)")
    p.add_argument("--group", default=None, help="group holding phi in a results file (default: posterior or prior)")
    add_run_options(p)
    p.set_defaults(fn=_cmd)
