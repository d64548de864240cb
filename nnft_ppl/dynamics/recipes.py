"""Recipe `training_dynamics`: a trained ensemble against the lazy theory, NTK drift against width
in the NTK and muP parametrisations, and G4c moving in the feature-learning regime.

Writes `training.nc` (the run's DataTree, `train_ensemble`), `drift.nc` (drift per width and
parametrisation with the fitted log-log slopes), `feature_learning.nc`, `g_t.png` (G_t against t with
the lazy-theory band), `drift.png` (NTK drift against width) and `summary.md`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .._conventions import arch_attrs
from .._schema import Arch, Float, Int, List, Str, Table
from .._tensors import sorted_tuples
from ..architectures import make_architecture
from ..ensemble import cumulants
from ..recipes import register_recipe
from ..stats import jackknife_se
from ._fit import train_ensemble
from ._plots import plot_drift, plot_g_t
from ._record import field_moment_sums

RUN = {
    "n_networks": Int(lo=8),
    "optimizer": Str(("sgd", "momentum", "adam")),
    "learning_rate": Float(positive=True),
    "time": Float(positive=True),
    "n_records": Int(lo=1),
}
SCHEMA = Table(
    {
        "architecture": Arch(exclude=("width",)),
        "data": Table({"n_train": Int(lo=1), "n_points": Int(lo=1), "target": Str(("sin", "cubic")), "noise": Float()}),
        "training": Table({"width": Int(lo=1), **RUN}),
        "drift": Table({"widths": List(Int(lo=1), min_len=2), **RUN}),
        "feature_learning": Table({"width": Int(lo=1), "parametrization": Str(("ntk", "mup")), **RUN}),
    },
    required=("architecture",),
)
SMALL = {
    "training.width": 128,
    "training.n_networks": 64,
    "training.n_records": 4,
    "drift.widths": [32, 128],
    "drift.n_networks": 16,
    "feature_learning.n_networks": 64,
}
TARGETS = {"sin": lambda x: np.sin(2 * x), "cubic": lambda x: x**3 - x}


def _data(spec, d, seed):
    cfg = {"n_train": 4, "n_points": 3, "target": "sin", "noise": 0.0, **spec.get("data", {})}
    rng = np.random.default_rng(seed)
    xt = np.linspace(-1.0, 1.0, cfg["n_train"])[:, None] * np.ones((1, d))
    x = np.linspace(-0.8, 1.2, cfg["n_points"])[:, None] * np.ones((1, d))
    y = TARGETS[cfg["target"]](xt[:, 0]) + cfg["noise"] * rng.standard_normal(cfg["n_train"])
    return xt, y, x


def _run_kw(cfg, seed):
    keys = ("n_networks", "optimizer", "learning_rate", "time", "n_records")
    return {"key": seed, **{k: cfg[k] for k in keys if k in cfg}}


def fit_slope(widths, drift, se) -> tuple[float, float, float]:
    """Weighted least-squares slope and intercept of log(drift) on log(width), and the slope's SE."""
    y, s = np.log(drift), np.asarray(se) / np.asarray(drift)
    a = np.c_[np.ones(len(widths)), np.log(widths)] / s[:, None]
    cov = np.linalg.inv(a.T @ a)
    coef = cov @ a.T @ (y / s)
    return float(coef[1]), float(coef[0]), float(np.sqrt(cov[1, 1]))


def drift_study(arch, xt, y, x, cfg, seed) -> xr.Dataset:
    """Relative NTK drift at the end of training for each width, NTK and muP parametrisations."""
    widths = [int(w) for w in cfg.get("widths", [64, 128, 256, 512, 1024])]
    kw = {"n_records": 1, "time": 2.0, "learning_rate": 0.05, "n_networks": 64, **_run_kw(cfg, seed)}
    data = np.zeros((2, 2, len(widths)))
    attrs = {}
    for i, par in enumerate(("ntk", "mup")):
        for j, w in enumerate(widths):
            c = train_ensemble(arch.at_width(w), xt, y, x, parametrization=par, **kw)["correlators"]
            data[i, :, j] = float(c.ntk_drift[-1]), float(c.ntk_drift_se[-1])
        slope, icpt, se = fit_slope(widths, data[i, 0], data[i, 1])
        attrs.update({f"slope_{par}": slope, f"slope_se_{par}": se, f"intercept_{par}": icpt})
    return xr.Dataset(
        {"drift": (("parametrization", "width"), data[:, 0]), "drift_se": (("parametrization", "width"), data[:, 1])},
        coords={"parametrization": ["ntk", "mup"], "width": widths},
        attrs={
            **arch_attrs(arch),
            **attrs,
            "time": kw["time"],
            "learning_rate": kw["learning_rate"],
            "n_networks": kw["n_networks"],
        },
    )


def g4c_change(tree) -> xr.Dataset:
    """G4c at the last record minus at t = 0 over the distinct index tuples, with the jackknife SE
    of the difference (the same networks and blocks at both times), and the largest |z|."""
    phi = tree["ensemble"].phi.values
    p = phi.shape[2]
    b = 16
    tup = sorted_tuples(p, 4)
    e0, e1 = (cumulants(field_moment_sums(phi[i], 4, min(b, phi.shape[1] // 2)), tup) for i in (0, -1))
    diff, se = e1.value - e0.value, jackknife_se(e1.replicas - e0.replicas)
    z = diff / np.where(se > 0, se, np.inf)
    return xr.Dataset(
        {
            "G4c_0": ("tuple", e0.value),
            "G4c_t": ("tuple", e1.value),
            "change": ("tuple", diff),
            "change_se": ("tuple", se),
        },
        coords={"tuple": [",".join(map(str, t)) for t in tup]},
        attrs={"max_abs_z": float(np.max(np.abs(z))), "time": float(tree["ensemble"].time[-1])},
    )


@register_recipe(
    "training_dynamics", schema=SCHEMA, small=SMALL, summary="trained ensembles vs the lazy NTK theory; NTK drift"
)
def run_training_dynamics(spec: dict, out: Path, progress: bool = True) -> dict:
    """Train the ensemble, compare it with the lazy theory, measure NTK drift against width (NTK and
    muP) and G4c's change in the feature-learning regime; write netCDF, plots and summary.md."""
    import matplotlib.pyplot as plt

    seed = int(spec.get("seed", 0))
    a = spec["architecture"]
    arch = make_architecture(a["name"], **a.get("params", {}))
    xt, y, x = _data(spec, arch.d, seed)
    tcfg = {"width": 512, **spec.get("training", {})}
    tree = train_ensemble(arch.at_width(tcfg["width"]), xt, y, x, **_run_kw(tcfg, seed))
    tree.to_netcdf(out / "training.nc")
    fig = plot_g_t(tree)
    fig.savefig(out / "g_t.png", dpi=110)
    plt.close(fig)
    drift = drift_study(arch, xt, y, x, spec.get("drift", {}), seed)
    drift.to_netcdf(out / "drift.nc")
    fig = plot_drift(drift)
    fig.savefig(out / "drift.png", dpi=110)
    plt.close(fig)
    fcfg = {"width": 16, "parametrization": "mup", "n_networks": 512, **spec.get("feature_learning", {})}
    fl = train_ensemble(
        arch.at_width(fcfg["width"]),
        xt,
        y,
        x,
        parametrization=fcfg["parametrization"],
        record_ntk=False,
        **_run_kw(fcfg, seed),
    )
    change = g4c_change(fl)
    change.attrs.update({**arch_attrs(arch.at_width(fcfg["width"])), "parametrization": fcfg["parametrization"]})
    change.to_netcdf(out / "feature_learning.nc")
    lines = _summary(tree, drift, change, fcfg)
    (out / "summary.md").write_text("\n".join(lines))
    return {
        "slope_ntk": drift.attrs["slope_ntk"],
        "slope_mup": drift.attrs["slope_mup"],
        "g4c_change_max_z": change.attrs["max_abs_z"],
    }


def _summary(tree, drift, change, fcfg) -> list[str]:
    c, th = tree["correlators"], tree.get("theory")
    lines = [f"# Training dynamics: {tree.attrs['architecture']}", ""]
    if th is not None:
        z = np.abs(c.G1.values - th["mean"].values) / np.where(c.G1_se.values > 0, c.G1_se.values, np.inf)
        lines += [
            f"Lazy theory vs trained ensemble (width {tree.attrs['arch_width']}): max |z| of the mean "
            f"over all times and points = {np.max(z):.2f}",
            "",
        ]
    lines += ["![](g_t.png)", "", "## NTK drift |Theta_t - Theta_0| / |Theta_0| against width", ""]
    for par in ("ntk", "mup"):
        s, se = drift.attrs[f"slope_{par}"], drift.attrs[f"slope_se_{par}"]
        lines.append(f"- {par}: slope {s:.3f} +- {se:.3f} (95% CI [{s - 1.96 * se:.3f}, {s + 1.96 * se:.3f}])")
    lines += [
        "",
        "![](drift.png)",
        "",
        f"## G4c in the feature-learning regime ({fcfg['parametrization']}, width {fcfg['width']})",
        "",
        f"largest |z| of G4c(t = {change.attrs['time']:.2f}) - G4c(0) over "
        f"the distinct tuples: {change.attrs['max_abs_z']:.1f}",
        "",
    ]
    return lines
