"""The `symmetry` recipe kind: a list of ensembles, each run through every applicable test."""

from __future__ import annotations

from pathlib import Path

from .._schema import Arch, Bool, Either, Float, Int, List, Map, Str, Table
from ..recipes import SEED, register_recipe
from ._core import DEFAULT_ALPHA
from .report import build_model, power_scan, power_table_report, run_ensemble, table, write_report

DOUBLE_WELL = Table({"m2": Float(), "lam": Float(positive=True)}, required=("m2", "lam"))
ENSEMBLE = Table(
    {
        "name": Str(),
        "architecture": Arch(names=None, build=build_model),
        "n": Int(lo=2),
        "seed": SEED,
        "n_points": Int(lo=1),
        "deform": Map(Either((Float(), DOUBLE_WELL))),  # potential terms, e.g. { phi3 = 1.8, phi4 = 2.4 }
        "distances": List(Float(positive=True), min_len=1),
    },
    required=("name", "architecture", "n"),
)
SCHEMA = Table(
    {
        "alpha": Float(positive=True),
        "ensembles": List(ENSEMBLE, min_len=1),
        "power": Table(
            {
                "params": Map(Either((Int(), Float()))),
                "n": Int(lo=2),
                "n_points": Int(lo=1),
                "mu": List(Float(), min_len=1),
                "seed": SEED,
                "table": Bool(),
                "table_n": Int(lo=2),
            }
        ),
    },
    required=("ensembles",),
)
#: notebook 04's small sizes (`NNFT_SMALL=1`)
SMALL = {"ensembles.*.n": 300, "power.n": 300, "power.table_n": 300}


def _entry(ens: dict) -> dict:
    """A recipe entry in the form `run_ensemble` reads (architecture name, params, key)."""
    e = {k: v for k, v in ens.items() if k not in ("architecture", "seed")}
    e.update(architecture=ens["architecture"]["name"], params=ens["architecture"].get("params", {}))
    e["key"] = ens.get("seed", 0)
    return e


def _power(spec: dict) -> dict:
    p = {k: v for k, v in spec.items() if k != "seed"}
    p["key"] = spec.get("seed", 0)
    return p


@register_recipe("symmetry", schema=SCHEMA, small=SMALL, summary="symmetry and Osterwalder-Schrader report")
def run_symmetry(spec: dict, out: Path, progress: bool = True) -> dict:
    """Run every `[[ensembles]]` entry of the recipe; write summary.md, PNGs and one NetCDF per ensemble."""
    alpha = float(spec.get("alpha", DEFAULT_ALPHA))
    out = Path(out)
    sections, summary = {}, {}
    for ens in spec["ensembles"]:
        tree, results = run_ensemble(_entry(ens), alpha)
        sections[ens["name"]] = results
        tree.to_netcdf(out / f"{ens['name']}.nc")
        if progress:
            print(f"\n## {ens['name']}\n{table(results)}")
        summary[ens["name"]] = ", ".join(f"{r.name.split(':')[0]}={r.verdict}" for r in results)
    extra = ""
    if "power" in spec:
        power = _power(spec["power"])
        scan, extra = power_scan(power, alpha)
        summary["power: smallest flagged mu"] = scan["smallest"]
        if power.get("table", False):
            rows, md = power_table_report(power, alpha)
            extra += "\n\n" + md
            for r in rows:
                summary[f"power: smallest flagged {r['test']}"] = r["smallest"]
        if progress:
            print("\n" + extra)
    write_report(sections, out, extra)
    return summary
