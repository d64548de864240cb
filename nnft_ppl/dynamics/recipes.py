"""Recipe `training_dynamics`: a trained ensemble against the lazy theory, NTK drift against width
in the NTK and muP parametrisations, and G4c moving in the feature-learning regime.

Writes `training.nc` (the run's DataTree, `train_ensemble`), `drift.nc` (drift per width and
parametrisation with the fitted log-log slopes), `feature_learning.nc`, `g_t.png` (G_t against t with
the lazy-theory band), `drift.png` (NTK drift against width) and `summary.md`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .. import _conventions as C
from .._conventions import arch_attrs, version_attrs
from .._schema import Arch, Float, Int, List, Str, Table
from ..architectures import make_architecture
from ..recipes import register_recipe
from ._feature import g4c_departure
from ._fit import train_ensemble
from ._param import Parametrized
from ._plots import plot_drift, plot_g_t

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
        "feature_learning": Table(
            {
                "width": Int(lo=1),
                "parametrization": Str(("ntk", "mup")),
                "ntk_widths": List(Int(lo=1)),
                "eval_points": List(Float(), min_len=1),
                "n_blocks": Int(lo=2),
                **RUN,
                "optimizer": Str(("sgd",)),  # the lazy comparison is gradient descent's
            }
        ),
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
    "feature_learning.ntk_widths": [],
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


def feature_learning_study(arch, xt, y, cfg, seed) -> xr.DataTree:
    """G4c at `eval_points` (away from the data, where the spread survives training) against its exact
    initial value and against the lazy (linearised, frozen-NTK) evolution of the same networks
    (`g4c_departure`): one child per run, the `parametrization` run at `width` (muP: feature learning)
    and NTK-parametrisation runs at `ntk_widths` (lazy as the width grows)."""
    cfg = {"width": 16, "parametrization": "mup", "ntk_widths": [16, 64, 256], "eval_points": [-2.0, 2.0], **cfg}
    cfg = {"n_networks": 8192, "learning_rate": 0.05, "time": 4.0, "n_records": 1, "n_blocks": 64, **cfg}
    ev = np.asarray(cfg["eval_points"], np.float64)[:, None] * np.ones((1, arch.d))
    x = np.concatenate([xt, ev])
    runs = [(cfg["parametrization"], int(cfg["width"]))] + [("ntk", int(w)) for w in cfg["ntk_widths"]]
    kw = {k: cfg[k] for k in ("n_networks", "learning_rate", "time", "n_records")}
    children = {}
    for par, w in dict.fromkeys(runs):
        a = arch.at_width(w)
        tree = train_ensemble(a, xt, y, x, parametrization=par, key=seed, **kw)
        ds = g4c_departure(tree, np.arange(len(xt), len(x)), Parametrized(a, par), cfg["n_blocks"])
        ds["x_eval"] = (("eval_point", C.INPUT_DIM), ev)
        ds.attrs.update({**arch_attrs(a), "parametrization": par, "learning_rate": kw["learning_rate"]})
        ds.attrs["eval_points"] = ev[:, 0].tolist()
        children[f"/{par}_width_{w}"] = ds
    out = xr.DataTree.from_dict(children)
    out.attrs.update({**version_attrs(), "n_networks": kw["n_networks"], "time": kw["time"]})
    return out


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
    fl = feature_learning_study(arch, xt, y, spec.get("feature_learning", {}), seed)
    fl.to_netcdf(out / "feature_learning.nc")
    (out / "summary.md").write_text("\n".join(_summary(tree, drift, fl)))
    first = next(iter(fl.children.values())).to_dataset()
    return {
        "slope_ntk": drift.attrs["slope_ntk"],
        "slope_mup": drift.attrs["slope_mup"],
        "g4c_departure_max_z": first.attrs["max_abs_z_departure"],
    }


def _summary(tree, drift, fl) -> list[str]:
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
    ]
    return lines + _feature_lines(fl)


def _feature_lines(fl) -> list[str]:
    ev = np.atleast_1d(next(iter(fl.children.values())).attrs["eval_points"]).tolist()
    lines = [
        "## G4c_t: departure from the lazy (linearised, frozen-NTK) evolution of the same networks",
        "",
        f"At x = {ev}, t = {fl.attrs['time']}, "
        f"{fl.attrs['n_networks']} networks per run. z: largest |z| over the distinct index tuples; "
        "threshold: 4 SE Bonferroni over them (Student t, blocks - 1 dof); k-hat: order-4 summands.",
        "",
        "| run | max abs departure | in units of max abs exact G4c_0 | z (trained vs lazy) | "
        "z (G4c_t vs exact G4c_0) | threshold | k-hat t / lazy |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, node in fl.children.items():
        a, dep = node.attrs, np.max(np.abs(node["departure"].values))
        unit = np.max(np.abs(node["G4c_0_exact"].values)) if "G4c_0_exact" in node else np.nan
        lines.append(
            f"| {name} | {dep:.2e} | {dep / unit:.2f} | {a['max_abs_z_departure']:.1f} | "
            f"{a.get('max_abs_z_change', np.nan):.1f} | {a['threshold']:.2f} | "
            f"{a['khat_4_t']:.2f} / {a['khat_4_lin']:.2f} |"
        )
    return lines + [""]
