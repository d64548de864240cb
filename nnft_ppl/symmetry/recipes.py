"""The `symmetry` recipe kind: a list of ensembles, each run through every applicable test."""

from __future__ import annotations

from pathlib import Path

from .._errors import NNFTError
from ..recipes import register_recipe
from ._core import DEFAULT_ALPHA
from .report import power_scan, power_table_report, run_ensemble, table, write_report


@register_recipe("symmetry")
def run_symmetry(spec: dict, out: Path, progress: bool = True) -> dict:
    """Run every `[[ensemble]]` of the recipe; write summary.md, PNGs and one NetCDF per ensemble."""
    ensembles = spec.get("ensemble")
    if not isinstance(ensembles, list) or not ensembles:
        raise NNFTError("recipe: a symmetry recipe needs at least one [[ensemble]] table")
    alpha = float(spec.get("alpha", DEFAULT_ALPHA))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections, summary = {}, {}
    for ens in ensembles:
        tree, results = run_ensemble(ens, alpha)
        sections[ens["name"]] = results
        tree.to_netcdf(out / f"{ens['name']}.nc")
        if progress:
            print(f"\n## {ens['name']}\n{table(results)}")
        summary[ens["name"]] = ", ".join(f"{r.name.split(':')[0]}={r.verdict}" for r in results)
    extra = ""
    if "power" in spec:
        scan, extra = power_scan(spec["power"], alpha)
        summary["power: smallest flagged mu"] = scan["smallest"]
        if spec["power"].get("table", False):
            rows, md = power_table_report(spec["power"], alpha)
            extra += "\n\n" + md
            for r in rows:
                summary[f"power: smallest flagged {r['test']}"] = r["smallest"]
        if progress:
            print("\n" + extra)
    write_report(sections, out, extra)
    return summary
