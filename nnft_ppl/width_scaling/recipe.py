"""The `width_scaling` recipe: the paper's experiment, report folder with results.nc,
plots and summary.md. The default recipe of `nnft run` is this one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._errors import NNFTError
from .._schema import Arch, Either, Float, Int, List, Map, Str, Table
from ..recipes import register_recipe
from ._plots import plot_g2, plot_scaling
from ._scaling import fit_slopes, width_scaling
from ._summary import headline, summary_markdown, write_results

SPEC_KEYS = {"widths", "n_nets", "ensembles"}


def check_spec(spec: dict) -> None:
    missing = SPEC_KEYS - set(spec)
    if missing:
        raise NNFTError(f"recipe: width_scaling needs {sorted(SPEC_KEYS)}; missing {sorted(missing)}")
    if not isinstance(spec["ensembles"], list) or not spec["ensembles"]:
        raise NNFTError("recipe: [[ensembles]] must list at least one ensemble")
    for e in spec["ensembles"]:
        if "architecture" not in e or "x" not in e:
            raise NNFTError("recipe: each [[ensembles]] entry needs `architecture` and `x`")


N_NETS = Either((Int(lo=1), Map(Int(lo=1), lambda k: k == "default" or k.isdigit(), '"default" or a width')))
POINTS = Either((List(Float(), min_len=1), List(List(Float(), min_len=1), min_len=1)))
ENSEMBLE = Table(
    {"architecture": Arch(exclude=("width",)), "x": POINTS, "label": Str(), "n_nets": N_NETS},
    required=("architecture", "x"),
)
SCHEMA = Table(
    {
        "widths": List(Int(lo=1), min_len=1),
        "n_nets": N_NETS,
        "n_neurons": Int(lo=0),
        "dtype": Str(("float32", "float64")),
        "ensembles": List(ENSEMBLE, min_len=1),
    },
    required=("widths", "n_nets", "ensembles"),
)
#: notebook 01's small sizes (`NNFT_SMALL=1`)
SMALL = {"widths": [2, 3, 5, 10, 100], "n_nets": 10_000, "ensembles.*.n_nets": 10_000, "n_neurons": 65_536}


@register_recipe("width_scaling", schema=SCHEMA, small=SMALL, summary="4- and 6-point deviations from the GP vs width")
def run(spec: dict, out: Path, progress: bool = True) -> dict:
    check_spec(spec)
    widths = spec["widths"]
    results, fits = {}, {}
    for i, e in enumerate(spec["ensembles"]):
        name = e.get("label", e["architecture"]["name"])
        n_nets = e.get("n_nets", spec["n_nets"])
        if isinstance(n_nets, dict):
            n_nets = [n_nets.get(str(w), n_nets.get("default")) for w in widths]
        ds = width_scaling(
            e["architecture"]["name"],
            e["architecture"].get("params", {}),
            np.asarray(e["x"], np.float64),
            widths,
            n_nets,
            key=spec.get("seed", 0) + 1000 * i,
            n_neurons=spec.get("n_neurons", 0),
            dtype=spec.get("dtype", "float32"),
            progress=progress,
        )
        results[name] = ds
        fits[name] = fit_slopes(ds)
        plot_scaling(name, ds, fits[name], out / f"scaling_{name}.png")
    plot_g2(results, out / "g2_vs_kernel.png")
    write_results(results, fits, out / "results.nc")
    (out / "summary.md").write_text(summary_markdown(spec, results, fits))
    return headline(fits)
