"""The `nnft` command: `nnft run [recipe]`, `nnft recipes`, `nnft zoo`, `nnft symmetry`.

Bad input (an `NNFTError`) prints `nnft: error: ...` and exits with code 2, never a traceback; an
unexpected exception inside a runner still shows its traceback (that is a bug to report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax

from ._errors import NNFTError
from .symmetry.cli import add_parser as add_symmetry_parser


def add_run_options(p: argparse.ArgumentParser) -> None:
    """`--out`, `--force`, `--quiet`, `--set`, `--small`: shared by `nnft run` and `nnft symmetry`."""
    p.add_argument("--out", help="report folder (default report/<recipe>)")
    p.add_argument("--force", action="store_true", help="replace an existing report folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars or tables")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a recipe value (TOML syntax; repeatable), e.g. --set fit.num_iters=50",
    )
    p.add_argument("--small", action="store_true", help="run at notebook size (the recipe kind's small overrides)")
    p.add_argument(
        "--resume", action="store_true", help="continue a killed run from its checkpoint (finished stages are kept)"
    )


def run_from_args(a, kind: str | None = None) -> tuple[Path, dict]:
    """Run the recipe named in `a.recipe` with the parsed options; `kind`: the only kind accepted."""
    from .recipes import DEFAULT_RECIPE, resolve_recipe, run_recipe

    recipe = resolve_recipe(a.recipe or DEFAULT_RECIPE)
    out = Path(a.out or f"report/{recipe.stem}")
    opts = {"force": a.force, "overrides": a.set, "small": a.small, "kind": kind, "resume": a.resume}
    summary = run_recipe(recipe, out, progress=not a.quiet, **opts)
    return out, summary or {}


def _cmd_run(a) -> int:
    out, summary = run_from_args(a)
    print(f"nnft: wrote {out}/")
    for k, v in summary.items():
        print(f"  {k}: {v}")
    return 0


def _cmd_recipes(a) -> int:
    from .recipes import list_recipes

    rows = list_recipes()
    w = max(len(n) for n, _, _ in rows)
    k = max(len(kind) for _, kind, _ in rows)
    for name, kind, desc in rows:
        print(f"{name:<{w}}  {kind:<{k}}  {desc}")
    return 0


#: the zoo table's columns (`nnft zoo` and the README's zoo table)
ZOO_COLUMNS = ("entry", "architecture", "kernel", "exact cumulants", "D > 1 outputs", "source")
KERNEL_TYPES = ("closed form", "recursion", "numerical")


def zoo_rows() -> list[tuple[str, ...]]:
    """One row per card: its name, architecture, kernel type (the card's `kernel`), whether the
    connected correlators are exact, leading order in 1/N or unknown (derived from the class's
    capabilities), whether `VectorOutput` applies, and the card's source."""
    from .architectures import ExactCumulants, LeadingOrderCumulants, LinearReadout
    from .recipes import zoo

    rows = []
    for name, card in zoo().items():
        kernel = card.get("kernel", "?")  # a card without it still lists (tests/test_zoo_table.py asks for it)
        if kernel not in (*KERNEL_TYPES, "?"):
            raise NNFTError(f"card {name}: kernel must be one of {KERNEL_TYPES}, got {kernel!r}")
        model = card["model"]
        exact = (
            "exact"
            if isinstance(model, ExactCumulants)
            else "leading 1/N"
            if isinstance(model, LeadingOrderCumulants)
            else "no"
        )
        vector = "yes" if isinstance(model, LinearReadout) else "no"
        rows.append((name, card["architecture"], kernel, exact, vector, card["source"]))
    return rows


def _cmd_zoo(a) -> int:
    rows = [ZOO_COLUMNS, *zoo_rows()]
    widths = [max(len(r[c]) for r in rows) for c in range(len(ZOO_COLUMNS) - 1)]
    for r in rows:
        print("  ".join(f"{v:<{w}}" for v, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnft", description="neural-network field theory model zoo")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a recipe (default: the width-scaling experiment)")
    r.add_argument("recipe", nargs="?", help="path to a recipe TOML, or a name in inference/ (see `nnft recipes`)")
    add_run_options(r)
    r.set_defaults(fn=_cmd_run)
    sub.add_parser("recipes", help="list the recipes, one line each").set_defaults(fn=_cmd_recipes)
    sub.add_parser("zoo", help="list the catalogue").set_defaults(fn=_cmd_zoo)
    add_symmetry_parser(sub)
    return p


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    from ._cache import enable_compilation_cache

    enable_compilation_cache()  # the program's choice, never a library import's
    try:
        with jax.enable_x64(True):  # the program computes in float64 (scoped: main() may be called in-process)
            return a.fn(a)
    except NNFTError as e:
        print(f"nnft: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
