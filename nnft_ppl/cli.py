"""The `nnft` command: `nnft run [recipe]`, `nnft zoo`, and subcommands from plugins."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from ._errors import NNFTError

#: modules with `add_parser(subparsers)`; each adds one subcommand (e.g. `nnft symmetry`)
PLUGINS = ["nnft_ppl.symmetry.cli"]


def _cmd_run(a) -> int:
    from .recipes import DEFAULT_RECIPE, resolve_recipe, run_recipe

    recipe = resolve_recipe(a.recipe or DEFAULT_RECIPE)
    out = Path(a.out or f"report/{recipe.stem}")
    summary = run_recipe(recipe, out, progress=not a.quiet)
    print(f"nnft: wrote {out}/")
    for k, v in (summary or {}).items():
        print(f"  {k}: {v}")
    return 0


def _cmd_zoo(a) -> int:
    from .recipes import zoo

    rows = zoo()
    w = max(len(n) for n in rows)
    for name, card in rows.items():
        print(f"{name:<{w}}  {card['architecture']:<15} {card['summary']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnft", description="neural-network field theory model zoo")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a recipe (default: the width-scaling experiment)")
    r.add_argument("recipe", nargs="?", help="path to a recipe TOML, or a name in inference/")
    r.add_argument("--out", help="report folder (default report/<recipe>)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.set_defaults(fn=_cmd_run)
    z = sub.add_parser("zoo", help="list the catalogue")
    z.set_defaults(fn=_cmd_zoo)
    for mod in PLUGINS:
        try:
            importlib.import_module(mod).add_parser(sub)
        except ModuleNotFoundError as e:
            if not (e.name or "").startswith("nnft_ppl"):
                raise
    return p


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    try:
        return a.fn(a)
    except NNFTError as e:
        print(f"nnft: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
