"""Recipe runner `kind = "running_coupling"`: the paper's running-coupling figure and six-point prediction
(arXiv:2008.08601, sec. 4): per architecture, measure G4c and G6, infer the local quartic coupling
lam(Lambda) over a log grid of cutoffs (slope with jackknife CI vs dimensional analysis), test its
constancy over tuples, and predict G6 - Wick6(K). Writes results.nc (DataTree), running.png,
six_point.png and summary.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._errors import NNFTError
from .._schema import Arch, Float, Int, List, Table
from ..architectures import make_architecture
from ..recipes import register_recipe
from ._correlators import measure
from ._integrals import check_cutoff
from ._local import local_coupling, running_coupling
from ._report import plot_running, plot_six_point, summary_table, to_tree
from ._sixpoint import six_point_prediction

SCHEMA = Table(
    {
        "architectures": List(Arch(), min_len=1),
        "points": Table({"x": List(Float(), min_len=1)}, required=("x",)),
        "sampling": Table({"n_nets": Int(lo=64), "n_blocks": Int(lo=8)}, required=("n_nets",)),
        "running": Table(
            {"cutoff_min": Float(positive=True), "cutoff_max": Float(positive=True), "n_cutoffs": Int(lo=2)},
            required=("cutoff_min", "cutoff_max"),
        ),
        "six_point": Table({"cutoff": Float(positive=True)}, required=("cutoff",)),
    },
    required=("architectures", "points", "sampling", "running", "six_point"),
)
SMALL = {"sampling.n_nets": 100_000, "running.n_cutoffs": 4}


@register_recipe("running_coupling", schema=SCHEMA, small=SMALL, summary="local quartic coupling, its running, G6")
def run_running_coupling(spec: dict, out: Path, progress: bool = True) -> dict:
    """Local quartic coupling and its running with the cutoff; the six-point prediction."""
    x = np.asarray(spec["points"]["x"], np.float64)[:, None]
    run_spec, six = spec["running"], spec["six_point"]
    lo = check_cutoff(run_spec["cutoff_min"], x, "running.cutoff_min")
    hi = check_cutoff(run_spec["cutoff_max"], x, "running.cutoff_max")
    if hi <= lo:
        raise NNFTError(f"running.cutoff_max ({hi:g}) must exceed running.cutoff_min ({lo:g})")
    cut6 = check_cutoff(six["cutoff"], x, "six_point.cutoff")
    cutoffs = np.geomspace(lo, hi, int(run_spec.get("n_cutoffs", 7)))
    ens = spec["sampling"]
    results = {}
    for i, a in enumerate(spec["architectures"]):
        arch = make_architecture(a["name"], **a.get("params", {}))
        corr = measure(
            arch, x, ens["n_nets"], key=spec.get("seed", 0) + i, n_blocks=ens.get("n_blocks", 64), progress=progress
        )
        run = running_coupling(corr, arch, cutoffs)
        lc = local_coupling(corr, arch, cut6)
        results[arch.name] = (arch, corr, run, lc, six_point_prediction(corr, arch, lc))
    out = Path(out)
    tree = to_tree(results, x)
    tree.to_netcdf(out / "results.nc")
    plot_running(results).savefig(out / "running.png", dpi=120)
    plot_six_point(results).savefig(out / "six_point.png", dpi=120)
    (out / "summary.md").write_text(summary_table(results, spec))
    return {
        name: {"slope": r[2].slope, "slope_se": r[2].slope_se, "six_point_max_z": r[4].max_z}
        for name, r in results.items()
    }
