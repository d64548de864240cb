"""Recipe runners: `kind = "deform_phi4"` (lam scan vs first-order diagrams, NUTS vs reweighting) and
`kind = "double_well"` (vacua, tunnelling, action landscape). Each writes results.nc (DataTree netCDF),
PNG plots and summary.md into the output folder."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from .._errors import NNFTError
from ..architectures import make_architecture
from ..recipes import register_recipe
from . import _analysis as A
from ._diagnostics import attach, diagnose, report, save, to_datatree
from ._lam2_report import lam2_section, plot_lam2
from ._model import deform
from ._plotting import no_minor_labels, pyplot
from ._potentials import DoubleWell, Phi4
from ._quadrature import make_quadrature
from ._sample import sample_scan

SAMPLER_KEYS = {
    "num_warmup",
    "num_samples",
    "num_chains",
    "kernel",
    "chain_method",
    "target_accept_prob",
    "max_tree_depth",
}


def _table(spec: dict, name: str) -> dict:
    t = spec.get(name, {})
    if not isinstance(t, dict):
        raise NNFTError(f"recipe: [{name}] must be a table")
    return t


def _setup(spec: dict):
    a = _table(spec, "architecture")
    if "name" not in a:
        raise NNFTError("recipe: [architecture] needs a name")
    arch = make_architecture(a["name"], **a.get("params", {}))
    q = _table(spec, "quadrature")
    quad = make_quadrature(q.get("box", (-1.0, 1.0)), q.get("n", 8), q.get("rule", "gauss-legendre"), q.get("d"))
    x = arch.check_points(_table(spec, "observables").get("x", [[0.0]]), "observables.x")
    s = dict(_table(spec, "sampler"))
    seed = int(s.pop("seed", 0))
    bad = set(s) - SAMPLER_KEYS
    if bad:
        raise NNFTError(f"recipe: unknown [sampler] key(s) {sorted(bad)}")
    return arch, quad, x, s, seed


def _write_tree(trees: dict, out: Path, extra=None) -> Path:
    import xarray as xr

    nodes = {}
    for name, dt in trees.items():
        for node in dt.subtree:
            if node.has_data:
                nodes[f"/{name}{node.path}" if node.path != "/" else f"/{name}"] = node.to_dataset()
    if extra is not None:
        nodes["/scan"] = extra
    root = xr.DataTree.from_dict(nodes)
    for name, dt in trees.items():
        root[name].attrs.update(dt.attrs)
    path = out / "results.nc"
    save(root, path)
    return path


@register_recipe("deform_phi4")
def run_phi4(spec: dict, out: Path, progress: bool = False) -> dict:
    """lam scan of a phi^4-deformed architecture: dG2 and G4c against first-order diagrams, the lam^2
    growth of the deviation, where first order fails, and NUTS ESS/s against importance reweighting."""
    import xarray as xr

    arch, quad, x, samp, seed = _setup(spec)
    scan = _table(spec, "scan")
    lams = [float(v) for v in scan.get("lam", [0.25, 0.5, 1.0, 2.0])]
    fit_lam_max = float(scan.get("fit_lam_max", 1.0))
    fit_order = int(scan.get("fit_order", 3))
    stress = [float(v) for v in _table(spec, "stress").get("lam", [])]
    rw_lams = [float(v) for v in _table(spec, "reweighting").get("lam", lams + stress)]
    rw_draws = int(_table(spec, "reweighting").get("num_draws", 20000))
    model = deform(arch, Phi4(lams[0]), quad)
    key = jax.random.PRNGKey(seed)
    all_lams = lams + stress
    runs = sample_scan(model, x, key, [Phi4(v) for v in all_lams], progress=progress, **samp)
    rows = A.phi4_scan(runs, all_lams, model)
    rw = A.reweighting_scan(model, x, jax.random.fold_in(key, 1), [Phi4(v) for v in rw_lams], rw_draws)
    trees, diags = {}, []
    for i, (run, lam) in enumerate(zip(runs, all_lams, strict=True)):
        run = run._replace(samples={k: run.samples[k] for k in ("phi", "S_int_value")})
        dt = to_datatree(run)
        d = diagnose(dt)
        attach(dt, d)
        dt.attrs["lam"] = lam
        trees[f"lam_{i}"] = dt
        diags.append(d)
    scan_ds = xr.Dataset(
        {
            k: ("lam", np.asarray([r[k] for r in rows], float))
            for k in (
                "phi2",
                "phi2_se",
                "free",
                "first_order",
                "deviation",
                "deviation_z",
                "g4c_max_z",
                "ess",
                "ess_per_s",
            )
        },
        coords={"lam": all_lams},
    )
    scan_ds["rw_kish_ess"] = ("lam_rw", np.asarray([r["kish_ess"] for r in rw]))
    scan_ds["rw_ess_per_s"] = ("lam_rw", np.asarray([r["ess_per_s"] for r in rw]))
    scan_ds = scan_ds.assign_coords(lam_rw=rw_lams)
    _write_tree(trees, out, scan_ds)
    scan_rows = rows[: len(lams)]
    brk = A.first_order_breakdown(rows)
    fit_idx = [i for i, v in enumerate(lams) if v <= fit_lam_max]
    fit, resp = A.lam2_fit(model, [runs[i] for i in fit_idx], [lams[i] for i in fit_idx], order=fit_order)
    # the same deviation from the paired reweighting estimate (precise where reweighting is healthy)
    rw_pair = A.reweighting_scan(model, x, jax.random.fold_in(key, 2), [Phi4(v) for v in lams], rw_draws)
    for r, q in zip(scan_rows, rw_pair, strict=True):
        q["deviation"] = q["phi2_shift"] - (r["first_order"] - r["free"])
        q["deviation_z"] = q["deviation"] / q["phi2_shift_se"]
        q["lam"] = r["lam"]
    _plot_phi4(scan_rows, rows, rw, rw_lams, rw_pair, out)
    plot_lam2(fit, out)
    lines = [
        f"# phi^4-deformed {arch.name}: first-order Feynman diagrams vs NUTS",
        "",
        f"Model: {model.metadata()}",
        f"Sampler: {runs[0].meta['kernel']}, {runs[0].meta['num_chains']} chains ({runs[0].meta['chain_method']}), "
        f"{runs[0].meta['num_warmup']} warm-up + {runs[0].meta['num_samples']} draws each; "
        "one compilation for the scan.",
        "",
        "| lam | <phi^2> (pt avg) | SE | first order | deviation / SE | shift from free / SE | "
        "G4c max z vs 1st order | min ESS(phi) | ESS/s | divergences | R-hat max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r, d in zip(rows, diags, strict=True):
        lines.append(
            f"| {r['lam']:g} | {r['phi2']:.4f} | {r['phi2_se']:.4f} | {r['first_order']:.4f} | "
            f"{r['deviation_z']:+.2f} | {r['shift_z']:+.2f} | {r['g4c_max_z']:.2f} | {r['ess']:.0f} | "
            f"{r['ess_per_s']:.1f} | {r['divergences']} | {d.rhat_max:.4f} |"
        )
    lines += ["", *lam2_section(fit, resp), ""]
    lines += [
        "Paired reweighting of prior draws (deviation from the diagram, without its O(lam/N) part; the points",
        "share their draws, so they are not fitted):",
        "",
        "| lam | reweighting shift of <phi^2> | SE | deviation from first order / SE |",
        "|---|---|---|---|",
        *[
            f"| {q['lam']:g} | {q['phi2_shift']:+.5f} | {q['phi2_shift_se']:.5f} | {q['deviation_z']:+.1f} |"
            for q in rw_pair
        ],
        "",
        "NUTS ESS/s of the first lam includes compilation (the scan is compiled once).",
        f"First order fails (NUTS |deviation| > 3 SE at this run's precision) from lam = {brk}."
        if brk is not None
        else "First order holds within 3 SE at every lam scanned.",
        "",
        "## Importance reweighting of prior draws (Kish ESS)",
        "",
        "| lam | Kish ESS | of draws | ESS/s | NUTS ESS/s |",
        "|---|---|---|---|---|",
    ]
    nuts_eps = {r["lam"]: r["ess_per_s"] for r in rows}
    for lam, r in zip(rw_lams, rw, strict=True):
        nuts = f"{nuts_eps[lam]:.1f}" if lam in nuts_eps else "-"
        lines.append(f"| {lam:g} | {r['kish_ess']:.1f} | {r['num_draws']} | {r['ess_per_s']:.1f} | {nuts} |")
    collapse = next((lam for lam, r in zip(rw_lams, rw, strict=True) if r["kish_ess"] < 0.01 * r["num_draws"]), None)
    lines += [
        "",
        f"Reweighting collapses (Kish ESS < 1% of the draws) from lam = {collapse}."
        if collapse is not None
        else "Reweighting keeps a Kish ESS above 1% of the draws at every lam scanned (small box: S_int stays O(1)"
        " for the prior's small-amplitude draws, so the ESS decays only like a power of lam).",
    ]
    lines += ["", "## Diagnostics (per lam)", ""]
    for lam, d in zip(all_lams, diags, strict=True):
        lines += [report(d, f"lam = {lam:g}"), ""]
    (out / "summary.md").write_text("\n".join(lines))
    return {
        "kind": "deform_phi4",
        "lams": all_lams,
        "max_abs_deviation_z_small_lam": float(abs(rows[0]["deviation_z"])),
        "first_order_breakdown_lam": brk,
        "lam2_fit": {
            "lams": [float(v) for v in fit.lams],
            "coef": [float(v) for v in fit.coef],
            "coef_se": [float(v) for v in fit.coef_se],
            "chi2": fit.chi2,
            "dof": fit.dof,
            "p_value": fit.p_value,
            "loglog_slope": fit.slope,
            "loglog_slope_se": fit.slope_se,
            "breakdown_lam": fit.breakdown_lam,
            "breakdown_rel_lam": fit.breakdown_rel_lam,
            "rel_lam_fit": fit.rel_lam_fit,
            "rel_lam_fit_se": fit.rel_lam_fit_se,
        },
        "all_diagnostics_ok": all(d.ok for d in diags),
        "reweighting_collapse_lam": collapse,
        "out": str(out),
    }


def _plot_phi4(rows, all_rows, rw, rw_lams, rw_pair, out: Path) -> None:
    plt = pyplot()
    lam = np.array([r["lam"] for r in rows])
    shift = np.array([r["phi2"] - r["free"] for r in rows])
    se = np.array([r["phi2_se"] for r in rows])
    fo = np.array([r["first_order"] - r["free"] for r in rows])
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.errorbar(lam, shift, 2 * se, fmt="o", label="NUTS (±2 SE)")
    ax.plot(lam, fo, "-", label="first order: -(lam/2) ∫ G G(z,z) G")
    ax.set(xscale="log", xlabel="lam", ylabel="shift of point-averaged <phi^2>")
    ax.legend(fontsize=8)
    no_minor_labels(ax)
    fig.tight_layout()
    fig.savefig(out / "dG2_vs_lam.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    dev = np.abs(shift - fo)
    ax.errorbar(lam, dev, se, fmt="o", label="|NUTS - first order| (±1 SE)")
    ax.errorbar(
        [q["lam"] for q in rw_pair],
        [abs(q["deviation"]) for q in rw_pair],
        [q["phi2_shift_se"] for q in rw_pair],
        fmt="s",
        mfc="none",
        label="paired reweighting",
    )
    ax.set(xscale="log", yscale="log", xlabel="lam", ylabel="deviation from first order")
    ax.legend(fontsize=8)
    no_minor_labels(ax)
    fig.tight_layout()
    fig.savefig(out / "deviation_lam2.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for r in rows:
        m, p, s = r["g4c_measured"].ravel(), r["g4c_first_order"].ravel(), r["g4c_se"].ravel()
        ax.errorbar(p, m, s, fmt=".", alpha=0.6, label=f"lam={r['lam']:g}")
    lo = min(np.min(r["g4c_first_order"]) for r in rows)
    ax.plot([lo, 0], [lo, 0], "k-", lw=0.8)
    ax.set(xlabel="first order -lam ∫ GGGG", ylabel="NUTS G4c - exact base G4c")
    ax.legend(fontsize=7)
    no_minor_labels(ax)
    fig.tight_layout()
    fig.savefig(out / "g4c_first_order.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(rw_lams, [r["ess_per_s"] for r in rw], "s-", label="reweighting (Kish ESS/s)")
    ax.plot(
        [r["lam"] for r in all_rows], [r["ess_per_s"] for r in all_rows], "o-", label="NUTS (ESS/s, compile in 1st)"
    )
    ax.set(xscale="log", yscale="log", xlabel="lam", ylabel="effective samples per second")
    ax.legend(fontsize=8)
    no_minor_labels(ax)
    fig.tight_layout()
    fig.savefig(out / "ess_per_second.png", dpi=110)
    plt.close(fig)


@register_recipe("double_well")
def run_double_well(spec: dict, out: Path, progress: bool = False) -> dict:
    """Symmetry breaking in a double-well deformation: per-chain vacua, tunnelling, and the action
    along the straight line between two chains' final states."""
    arch, quad, x, samp, seed = _setup(spec)
    pot = _table(spec, "potential")
    dw = DoubleWell(pot.get("m2", -6.0), pot.get("lam", 6.0))
    model = deform(arch, dw, quad)
    run = sample_scan(model, x, jax.random.PRNGKey(seed), [dw], progress=progress, **samp)[0]
    dt = to_datatree(run)
    d = diagnose(dt)
    attach(dt, d)
    _write_tree({"double_well": dt}, out)
    vac = A.chain_vacua(run)
    m = vac["chain_mean"]
    a, b = int(np.argmin(m)), int(np.argmax(m))
    land = A.landscape(model, A.theta_of(run, a), A.theta_of(run, b), x)
    plt = pyplot()
    fig, axs = plt.subplots(1, 3, figsize=(12, 3.5))
    v = run.samples["phi"].mean(-1)
    for c in range(v.shape[0]):
        axs[0].plot(v[c], lw=0.6)
    for s in dw.vacua():
        axs[0].axhline(s, color="k", ls=":", lw=0.8)
    axs[0].set(xlabel="draw", ylabel="point-averaged phi", title="chains settle in vacua")
    axs[1].hist(v.ravel(), bins=60)
    axs[1].set(xlabel="point-averaged phi", title="two vacua")
    axs[2].plot(land["t"], land["total"] - land["total"][0], label="-log P_lam (total action)")
    axs[2].plot(land["t"], land["s_int"] - land["s_int"][0], label="S_int")
    axs[2].set(xlabel=f"t (chain {a} -> chain {b})", ylabel="relative to t = 0", title="action along the path")
    axs[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "double_well.png", dpi=110)
    plt.close(fig)
    barrier = float(np.max(land["total"]) - max(land["total"][0], land["total"][-1]))
    lines = [
        f"# Double-well deformation of {arch.name}: {dw.describe()}, vacua at {dw.vacua()}",
        "",
        "| chain | mean of phi (pt avg) | fraction phi > 0 | tunnels |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c} | {m[c]:+.3f} | {vac['frac_positive'][c]:.2f} | {bool(vac['tunnels'][c])} |" for c in range(len(m))
    ]
    lines += [
        "",
        f"Chains in the positive vacuum: {int((m > 0).sum())} of {len(m)}; "
        f"chains that tunnel: {int(vac['tunnels'].sum())}.",
        f"Action barrier along the straight line between chain {a} and chain {b}: {barrier:.2f} (in units of -log P).",
        "",
        "R-hat across chains is expected to be flagged when chains sit in different vacua (broken symmetry,",
        "no tunnelling): that flag is the diagnosis, not a sampler bug.",
        "",
        report(d),
    ]
    (out / "summary.md").write_text("\n".join(lines))
    return {
        "kind": "double_well",
        "chains_positive": int((m > 0).sum()),
        "chains_negative": int((m < 0).sum()),
        "chains_tunnelling": int(vac["tunnels"].sum()),
        "barrier": barrier,
        "diagnostics_ok": d.ok,
        "out": str(out),
    }
