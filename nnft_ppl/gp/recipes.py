"""Recipe runners: `gp_fit` (NNGP hyperparameters by the marginal likelihood on each
data set), `nn_vs_gp` (finite-width networks by NUTS against the fitted NNGP) and
`predictive_comparison` (NUTS networks, NNGP, NTK-GP and deep ensembles side by side)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from .._conventions import arch_attrs
from .._errors import NNFTError
from .._schema import Arch, Bool, Float, Int, List, Str, Table
from ..architectures import make_architecture
from ..recipes import SEED, register_recipe
from ..theory import fit_width_scaling
from ._compare import compare_widths, plot_comparison
from ._data import input_grid, load_dataset
from ._fit import fit_gp
from ._predictive_report import plot_distances, plot_predictives, study_tree
from ._predictive_study import LIMITS, distance_scaling, heldout_table, pair_distances, predictive_study, split_heldout

DATASETS = Table(
    {
        "synthetic": Table({"n": Int(lo=1), "noise": Float(positive=True), "seed": SEED}),
        "diabetes_bmi": Table({"n": Int(lo=1), "seed": SEED}),
    }
)
FIT = Table(
    {
        "optimizer": Str(("scipy", "adam", "lbfgs")),
        "num_iters": Int(lo=1),
        "noise": Float(positive=True),
        "fit_noise": Bool(),
        "trainable": List(Str()),
        "learning_rate": Float(positive=True),
        "jitter": Float(positive=True),
    }
)
GP_FIT_SCHEMA = Table(
    {
        "architectures": List(Arch(exclude=("d",)), min_len=1),
        "n_grid": Int(lo=2),
        "fit": FIT,
        "datasets": DATASETS,
    },
    required=("architectures", "datasets"),
)
NN_VS_GP_SCHEMA = Table(
    {
        "architecture": Arch(exclude=("width",)),
        "widths": List(Int(lo=1), min_len=1),
        "n_grid": Int(lo=2),
        "nuts": Table(
            {
                "num_warmup": Int(lo=1),
                "num_samples": Int(lo=1),
                "num_chains": Int(lo=1),
                "fit_iters": Int(lo=1),
                "init_noise": Float(positive=True),
            }
        ),
        "datasets": DATASETS,
    },
    required=("architecture", "datasets"),
)
#: notebook 02's small sizes (`NNFT_SMALL=1`)
GP_SMALL = {"fit.num_iters": 20, "n_grid": 8, "datasets.*.n": 12}
NN_VS_GP_SMALL = {
    "widths": [4, 16],
    "n_grid": 8,
    "datasets.*.n": 12,
    "nuts.num_warmup": 200,
    "nuts.num_samples": 300,
    "nuts.num_chains": 4,
    "nuts.fit_iters": 20,
}


def _datasets(spec: dict) -> dict:
    ds = spec.get("datasets", {})
    if not ds:
        raise NNFTError("recipe: [datasets] must name at least one data set, e.g. [datasets.synthetic]")
    return {name: load_dataset(name, **(kw or {})) for name, kw in ds.items()}


def _w2_slope(rows) -> str:
    """W2 ~ N^slope over the widths whose W2, debiased for Monte Carlo noise, is resolved above zero
    (the leading finite-width correction to the posterior predictive is O(1/N), so the slope should
    approach -1)."""
    widths = np.array([r["width"] for r in rows])
    usable = [r.get("w2_resolved", True) for r in rows]
    try:
        fit = fit_width_scaling(widths, [r["w2"] for r in rows], [r["w2_se"] for r in rows], usable=usable)
    except NNFTError as e:
        return f"(no slope: {e})"
    return (
        f"Fit W2 (debiased for MC noise; noise floors in the table) ~ N^slope over N = {widths[fit.used].tolist()}: "
        f"slope {fit.slope:.3f} +- {fit.slope_se:.3f} "
        f"(95% CI {fit.ci_low:.2f}..{fit.ci_high:.2f}; -1 expected at large N)."
    )


def gp_fit_compute(spec: dict) -> dict:
    """Each data set's fits: `{dataset: (data, {architecture: (fit, test grid, prediction, LOO)})}`."""
    fit_kw, n_grid = spec.get("fit", {}), int(spec.get("n_grid", 60))
    out = {}
    for dname, data in _datasets(spec).items():
        fits = {}
        for a in spec["architectures"]:
            g = fit_gp(make_architecture(a["name"], **{**a.get("params", {}), "d": data.d}), data.x, data.y, **fit_kw)
            xt = input_grid(data, n_grid)
            fits[a["name"]] = (g, xt, g.predict(xt), g.elpd_loo())
        out[dname] = (data, fits)
    return out


def gp_fit_dataset(data, aname: str, g, xt, p: dict, loo: dict) -> xr.Dataset:
    """One fit as a Dataset: predictions on the test grid, pointwise LOO, fitted scales in attrs."""
    from .._conventions import netcdf_attr, point_values, version_attrs

    fitted = {**g.kernel.arch.params(), **g.kernel.values()}  # the architecture at the fitted scales

    ds = xr.Dataset(
        {k: ("test_point", v) for k, v in p.items()} | {"loo_pointwise": ("point", loo["pointwise"])},
        coords={
            "test_point": point_values(xt),
            "point": point_values(data.x),
            "x_test": (("test_point", "input_dim"), xt),
            "x": (("point", "input_dim"), np.asarray(data.x)),
        },
        attrs={
            **version_attrs(),
            **{f"arch_{k}": netcdf_attr(v) for k, v in fitted.items()},
            **data.attrs(),
            **g.summary(),
            "architecture": aname,
            "elpd_loo": loo["elpd"],
            "elpd_loo_se": loo["se"],
            "notes": "; ".join(g.notes),
        },
    )
    ds.attrs["x_mean"], ds.attrs["x_scale"] = np.asarray(ds.attrs["x_mean"]), np.asarray(ds.attrs["x_scale"])
    return ds


def plot_gp_fits(data, fits: dict, ax=None):
    """The data and each architecture's fitted GP predictive mean with its 95% band of y; returns the Figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    fig = ax.figure
    ax.plot(data.x[:, 0], data.y, "k.", label=f"data (n = {data.n})")
    for i, (aname, (_g, xt, p, loo)) in enumerate(fits.items()):
        colour = f"C{i}"
        sd = np.sqrt(p["var_y"])
        label = f"{aname}: ELPD {loo['elpd']:.1f} ± {loo['se']:.1f}"
        ax.plot(xt[:, 0], p["mean"], "-", color=colour, label=label)
        ax.fill_between(xt[:, 0], p["mean"] - 2 * sd, p["mean"] + 2 * sd, color=colour, alpha=0.15, lw=0)
    ax.set(xlabel="x (standardised)", ylabel="y (standardised)")
    ax.set_title(f"NNGP fits to {data.name}\nlines: predictive mean; bands: ±2 sd of y", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _gp_fit_rows(fits: dict) -> list[str]:
    lines = ["| architecture | scales | noise | log ML | exact LOO ELPD (SE) | notes |", "|---|---|---|---|---|---|"]
    for aname, (g, _xt, _p, loo) in fits.items():
        sc = ", ".join(f"{k}={v:.3g}" for k, v in g.kernel.values().items())
        lines.append(
            f"| {aname} | {sc} | {g.noise:.3g} | {g.log_marginal_likelihood:.3f} | "
            f"{loo['elpd']:.2f} ({loo['se']:.2f}) | {'; '.join(g.notes) or '-'} |"
        )
    return lines


@register_recipe("gp_fit", schema=GP_FIT_SCHEMA, small=GP_SMALL, summary="NNGP scales by the GP marginal likelihood")
def run_gp_fit(spec: dict, out: Path, progress: bool = True) -> dict:
    """Fit the NNGP of each listed architecture to each data set; write the fitted
    scales, LOO and predictions (netCDF), one plot per data set and a summary.md."""
    import matplotlib.pyplot as plt

    lines = ["# NNGP fits by the marginal likelihood", ""]
    summary = {}
    for dname, (data, fits) in gp_fit_compute(spec).items():
        for aname, fit in fits.items():
            gp_fit_dataset(data, aname, *fit).to_netcdf(out / f"gp_{dname}_{aname}.nc")
            summary[f"{dname}/{aname}"] = f"logML={fit[0].log_marginal_likelihood:.3f}"
        fig = plot_gp_fits(data, fits)
        fig.tight_layout()
        fig.savefig(out / f"gp_fit_{dname}.png", dpi=110)
        plt.close(fig)
        lines += [f"## {data.name}", "", *_gp_fit_rows(fits), "", f"![]({f'gp_fit_{dname}.png'})", ""]
    (out / "summary.md").write_text("\n".join(lines))
    return summary


@register_recipe(
    "nn_vs_gp", schema=NN_VS_GP_SCHEMA, small=NN_VS_GP_SMALL, summary="finite-width BNNs (NUTS) vs their NNGP"
)
def run_nn_vs_gp(spec: dict, out: Path, progress: bool = True) -> dict:
    """For each data set: fit the NNGP, sample the network at each width, write the
    DataTrees (netCDF), the comparison plot (PNG) and summary.md with ELPD, Pareto-k,
    W2 and every convergence warning."""
    a = spec["architecture"]
    arch = make_architecture(a["name"], **a.get("params", {}))
    nuts = {**spec.get("nuts", {}), "rng_key": int(spec.get("seed", 0))}
    widths = spec.get("widths", [4, 16, 64, 256])
    lines = [f"# {arch.name}: finite-width networks vs their NNGP", ""]
    summary = {}
    for dname, data in _datasets(spec).items():
        c = compare_widths(arch, data, widths, n_grid=int(spec.get("n_grid", 40)), progress_bar=progress, **nuts)
        plot_comparison(c, out / f"nn_vs_gp_{dname}.png")
        for w, dt in c.nets.items():
            dt.attrs = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in dt.attrs.items()}
            dt.to_netcdf(out / f"bnn_{dname}_N{w}.nc")
        w2 = [r["w2"] for r in c.rows]
        mono = all(a > b for a, b in zip(w2, w2[1:], strict=False))
        slope = _w2_slope(c.rows)
        bad = [r for r in c.rows if r["warnings"] or r["n_pareto_k_bad"]]
        lines += [
            f"## {data.name}",
            "",
            f"Transform: {json.dumps(data.attrs())}",
            "",
            f"GP fit: {c.gp.summary()}  notes: {'; '.join(c.gp.notes) or 'none'}",
            "",
            c.table(),
            "",
            f"W2 decreasing with width: {'yes' if mono else 'NO'}. {slope} "
            + (
                "Pareto-k: all <= 0.7, PSIS-LOO trustworthy."
                if not any(r["n_pareto_k_bad"] for r in c.rows)
                else "Pareto-k > 0.7 at some widths: PSIS-LOO ELPD there is NOT trustworthy."
            ),
            "",
            "Warnings: " + ("; ".join(f"N={r['width']}: {r['warnings']}" for r in bad if r["warnings"]) or "none"),
            "",
            f"![](nn_vs_gp_{dname}.png)",
            "",
        ]
        w2_se = ", ".join(f"N={r['width']}: {r['w2']:.4g} ± {r['w2_se']:.2g}" for r in c.rows)
        summary[dname] = f"W2 to the GP {w2_se} (decreasing: {mono})"
    (out / "summary.md").write_text("\n".join(lines))
    return summary


# ---- predictive_comparison (issue 14 item 5) ---------------------------------------------------------
PREDICTIVE_SCHEMA = Table(
    {
        "architecture": Arch(exclude=("width", "d")),
        "n_grid": Int(lo=2),
        "data": Table(
            {
                "name": Str(("synthetic", "diabetes_bmi")),
                "n": Int(lo=8),
                "n_heldout": Int(lo=2),
                "noise": Float(positive=True),
            }
        ),
        "gp": Table({"fit_iters": Int(lo=0), "init_noise": Float(positive=True)}),
        "training": Table(
            {
                "widths": List(Int(lo=1), min_len=1),
                "n_networks": Int(lo=8),
                "learning_rate": Float(positive=True),
                "time": Float(positive=True),
            }
        ),
        "bnn": Table(
            {"widths": List(Int(lo=1)), "num_warmup": Int(lo=1), "num_samples": Int(lo=1), "num_chains": Int(lo=2)}
        ),
    },
    required=("architecture",),
)
PREDICTIVE_SMALL = {
    "n_grid": 8,
    "data.n": 20,
    "data.n_heldout": 8,
    "gp.fit_iters": 20,
    "training.widths": [64, 512],
    "training.n_networks": 64,
    "bnn.widths": [8],
    "bnn.num_warmup": 100,
    "bnn.num_samples": 100,
    "bnn.num_chains": 2,
}


def _predictive_data(spec: dict, seed: int):
    cfg = {"name": "synthetic", "n": 40, "n_heldout": 20, **spec.get("data", {})}
    kw = {"n": cfg["n"], "seed": seed}
    if "noise" in cfg:
        if cfg["name"] != "synthetic":
            raise NNFTError(f"data.noise: only the synthetic data set takes a noise level, not {cfg['name']!r}")
        kw["noise"] = cfg["noise"]
    data = load_dataset(cfg["name"], **kw)
    return data, split_heldout(data.x, data.y, cfg["n_heldout"], seed)


@register_recipe(
    "predictive_comparison",
    schema=PREDICTIVE_SCHEMA,
    small=PREDICTIVE_SMALL,
    summary="NUTS BNN vs NNGP vs NTK-GP vs deep ensemble: W2, held-out ELPD",
)
def run_predictive_comparison(spec: dict, out: Path, progress: bool = True) -> dict:
    """Fit the NNGP's scales and noise on the training part, then compute the NNGP posterior, the NTK-GP,
    deep ensembles and NUTS networks at their widths; write `predictive.nc`, `bnn_N<w>.nc`,
    `predictives.png`, `distances.png` and summary.md (W2 between each pair with errors, held-out
    ELPD, each finite-width distance to its limit against width)."""
    seed = int(spec.get("seed", 0))
    a = spec["architecture"]
    data, (xt, yt, xh, yh) = _predictive_data(spec, seed)
    arch = make_architecture(a["name"], **{**a.get("params", {}), "d": data.d})
    gcfg = {"fit_iters": 200, "init_noise": 0.5, **spec.get("gp", {})}
    noise, notes = gcfg["init_noise"], "prior scales and noise as given (gp.fit_iters = 0)"
    if gcfg["fit_iters"] > 0:
        gp = fit_gp(arch, xt, yt, noise=noise, num_iters=gcfg["fit_iters"], standardize=False)
        arch, noise, notes = gp.arch, gp.noise, f"NNGP fit on the training points: {gp.summary()}"
    tcfg = {"widths": [64, 256, 1024], "n_networks": 256, **spec.get("training", {})}
    bcfg = {"widths": [4, 16, 64], **spec.get("bnn", {})}
    study = predictive_study(
        arch,
        xt,
        yt,
        input_grid(data, int(spec.get("n_grid", 40))),
        xh,
        yh,
        noise,
        ensemble_widths=tcfg["widths"],
        bnn_widths=bcfg["widths"],
        n_networks=tcfg["n_networks"],
        time=tcfg.get("time"),
        learning_rate=tcfg.get("learning_rate"),
        nuts={k: v for k, v in bcfg.items() if k != "widths"},
        key=seed,
        progress_bar=progress,
    )
    dist, elpd = pair_distances(study), heldout_table(study)
    fits = {}
    for fin, lim in LIMITS.items():
        pair = next(p for p in dist.pair.values if set(p.split(" vs ")) == {fin, lim})
        fits[pair] = distance_scaling(dist, pair)
    attrs = {**arch_attrs(arch), **data.attrs(), "n_train": len(yt), "n_heldout": len(yh), "gp": notes}
    dist.attrs["fits"] = json.dumps(fits)
    study_tree(study, dist, elpd, attrs).to_netcdf(out / "predictive.nc")
    for w, dt in study.bnn_trees.items():
        dt.attrs = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in dt.attrs.items()}
        dt.to_netcdf(out / f"bnn_N{w}.nc")
    plot_predictives(study).savefig(out / "predictives.png", dpi=110)
    plot_distances(dist, fits).savefig(out / "distances.png", dpi=110)
    (out / "summary.md").write_text("\n".join(_predictive_summary(study, dist, elpd, fits, data.name, notes)))
    return {
        p: (f"slope {f['slope']:.2f} +- {f['slope_se']:.2f}" if f.get("fit") == "ok" else f["fit"])
        for p, f in fits.items()
    }


def _predictive_summary(study, dist, elpd, fits, dname, notes) -> list[str]:
    lines = [f"# Predictive comparison: {study.arch.name} on {dname}", "", f"{notes}. Noise {study.noise:.4g}.", ""]
    lines += [
        f"Training (NTK-GP and ensembles): gradient descent, learning rate {study.learning_rate:.4g}, "
        f"time t = {study.time:.4g} ({round(study.time / study.learning_rate)} steps), NTK parametrisation; "
        f"{len(study.y_train)} training and {len(study.y_heldout)} held-out points.",
        "",
        "## W2 between the predictives of y (debiased; SE; `~0` = not resolved above 0 at 4 SE)",
        "",
        "| width | " + " | ".join(str(p) for p in dist.pair.values) + " |",
        "|---|" + "---|" * dist.sizes["pair"],
    ]
    for w in dist.width.values:
        d = dist.sel(width=w)
        cells = [
            "-" if not np.isfinite(v) else f"{v:.4f} ± {s:.4f}{'' if r > 0 else ' ~0'}"
            for v, s, r in zip(d.w2.values, d.w2_se.values, d.resolved.values, strict=True)
        ]
        lines.append(f"| {int(w)} | " + " | ".join(cells) + " |")
    lines += ["", "## Held-out ELPD (SE over points; Monte Carlo SE; difference from the NNGP, paired SE)", ""]
    lines += ["| predictive | ELPD | SE | MC SE | minus NNGP | SE |", "|---|---|---|---|---|---|"]
    for i, lab in enumerate(elpd.predictive.values):
        r = elpd.isel(predictive=i)
        lines.append(
            f"| {lab} | {float(r.elpd):.3f} | {float(r.elpd_se):.3f} | {float(r.elpd_mc_se):.3f} | "
            f"{float(r.elpd_diff_nngp):.3f} | {float(r.elpd_diff_nngp_se):.3f} |"
        )
    lines += ["", "## Distance to the infinite-width limit against width", ""]
    for pair, f in fits.items():
        slope = (
            f"slope {f['slope']:.3f} ± {f['slope_se']:.3f} (95% CI {f['ci_low']:.2f}..{f['ci_high']:.2f}), "
            f"amplitude {f['fit_amplitude']:.3g}"
            if f.get("fit") == "ok"
            else f["fit"]
        )
        amp = (
            f"N x W2 = {f['amplitude']:.4g} ± {f['amplitude_se']:.2g} (chi2 {f['amplitude_chi2']:.2f} on "
            f"{f['amplitude_dof']} dof; by width {', '.join(f'{x:.3g}' for x in f['amplitude_by_width'])})"
            if "amplitude" in f
            else "no resolved width"
        )
        lines.append(f"- {pair}: over N = {f['widths_used']}: {slope}; at the expected slope -1: {amp}")
        local = ", ".join(f"{a}->{b}: {x:.2f} ± {e:.2f}" for a, b, x, e in f["local_slopes"])
        lines.append(f"  - local slopes between consecutive widths: {local or 'none'}")
    for w, dt in study.bnn_trees.items():
        lines.append(
            f"- NUTS N={w}: R-hat max {dt.attrs['rhat_max']:.4f}, divergences {dt.attrs['divergences']}, "
            f"Pareto k-hat of the variance's summands {study.bnns[w].khat():.2f}"
        )
    for w, loss in study.train_loss.items():
        lines.append(
            f"- ensemble N={w}: final training loss median {np.median(loss):.4g}, "
            f"Pareto k-hat of the variance's summands {study.ensembles[w].khat():.2f} (> 0.5: SEs unreliable)"
        )
    lines += ["", "![](predictives.png)", "", "![](distances.png)", ""]
    return lines
