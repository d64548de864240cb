# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Finite-width Bayesian networks against their infinite-width GP: predictive bands,
ELPD (PSIS-LOO for the networks, exact LOO for the GP), Pareto-k reliability, and a
2-Wasserstein distance between the predictive marginals, debiased for Monte Carlo noise,
with a jackknife SE and the noise floor it removed (`w2_estimate`)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import NamedTuple

import arviz_stats as azs
import jax
import numpy as np
from jaxtyping import Array, Float
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import _validate as V
from .._errors import NNFTError
from .._keys import as_key
from ..architectures import Architecture
from ..stats import jackknife_se, se_threshold
from ._bnn import _renamed, predictive_moments, run_nuts
from ._data import RegressionData, input_grid
from ._fit import GPFit, fit_gp

#: Pareto-k above this makes a PSIS-LOO term unreliable
PARETO_K_MAX = 0.7
Z90 = 1.6448536269514722


def w2_gaussian(m1, v1, m2, v2) -> Float[Array, " m"]:
    """2-Wasserstein distance between N(m1, v1) and N(m2, v2), elementwise."""
    return np.sqrt((np.asarray(m1) - m2) ** 2 + (np.sqrt(v1) - np.sqrt(v2)) ** 2)


def w2_to_gp(
    cm: Float[Array, "B S m"], cv: Float[Array, "B S m"] | None, s2: float, gp_mean, gp_var_y
) -> tuple[float, float]:
    """The plug-in mean over the grid of W2 between the network's Gaussian-approximated predictive
    marginals and the GP's, and its delete-one-batch jackknife SE. The network's are mixtures over
    posterior draws of N(cm, cv) (conditional moments given the hidden layer, or raw draws of f with
    `cv=None`) plus noise variance `s2`, in B batches of S draws.

    Biased upward by Monte Carlo noise (where the true distance is 0 it returns about the noise, many
    SE above 0) and the jackknife SE does not see the bias: `w2_estimate` removes it."""
    mom, full, loo = _batch_moments(cm, cv)
    est = float(np.mean(np.sqrt(_sq_w2(*full, s2, gp_mean, gp_var_y))))
    if mom.shape[1] < 2:
        return est, float("nan")
    return est, float(jackknife_se(np.mean(np.sqrt(_sq_w2(*loo, s2, gp_mean, gp_var_y)), axis=-1)))


def _batch_moments(cm, cv):
    """Per-batch, full-sample and leave-one-batch-out draw moments (E cm, E cm^2, E cv), each (3, [B,] m)."""
    cm = np.asarray(cm, np.float64)
    cv = np.zeros_like(cm) if cv is None else np.asarray(cv, np.float64)
    if cm.ndim != 3 or cv.shape != cm.shape:
        raise NNFTError(f"cm, cv: need (batches, draws, grid) arrays of one shape, got {cm.shape}, {cv.shape}")
    b = cm.shape[0]
    mom = np.stack([cm.mean(1), (cm**2).mean(1), cv.mean(1)])  # batches of equal size
    full = mom.mean(1)
    return mom, full, (full[:, None] * b - mom) / max(b - 1, 1)


def _sq_w2(m1, m2, v, s2, gp_mean, gp_var_y) -> np.ndarray:
    """Squared per-point W2 of the draws' Gaussian-approximated mixture (moments m1, m2, v) to the GP's."""
    var = np.maximum(v + m2 - m1**2, 0.0) + s2
    return (m1 - gp_mean) ** 2 + (np.sqrt(var) - np.sqrt(gp_var_y)) ** 2


class W2Estimate(NamedTuple):
    """The 2-Wasserstein distance of the network's predictive marginals to the GP's, debiased.

    `d2`/`d2_se`: the mean over the grid of the squared per-point W2, with the Monte Carlo bias of the
    plug-in estimate removed (delete-one-batch jackknife bias correction; unbiased, so it scatters
    around 0 and may be negative where the network equals the GP); `w2` = sqrt(max(d2, 0)) (the RMS
    over the grid of the per-point W2, i.e. W2 between the products of the marginals / sqrt(m)) with
    `w2_se` = half the width of sqrt over d2 +- d2_se; `noise_floor`: the W2 the noise alone
    produced (sqrt of the removed bias); `resolved`: d2 above 0 by the 4 SE threshold (Student t,
    B - 1 dof); `raw`/`raw_se`: the plug-in mean of W2 (`w2_to_gp`), biased upward, for comparison."""

    w2: float
    w2_se: float
    d2: float
    d2_se: float
    noise_floor: float
    resolved: bool
    raw: float
    raw_se: float
    n_batches: int

    @classmethod
    def from_d2(cls, d2: float, d2_se: float, d2_full: float, resolved, raw: float, raw_se: float, n_batches: int):
        """The estimate from the debiased mean squared W2 `d2` +- `d2_se` and the plug-in `d2_full`."""
        hi, lo = math.sqrt(max(d2 + d2_se, 0.0)), math.sqrt(max(d2 - d2_se, 0.0))
        return cls(
            w2=math.sqrt(max(d2, 0.0)),
            w2_se=0.5 * (hi - lo),
            d2=d2,
            d2_se=d2_se,
            noise_floor=math.sqrt(max(d2_full - d2, 0.0)),
            resolved=bool(resolved),
            raw=raw,
            raw_se=raw_se,
            n_batches=n_batches,
        )


def w2_estimate(
    cm: Float[Array, "B S m"], cv: Float[Array, "B S m"] | None, s2: float, gp_mean, gp_var_y
) -> W2Estimate:
    """W2 of the network's predictive marginals to the GP's with the Monte Carlo noise bias removed
    (see `W2Estimate`); arguments as `w2_to_gp`. The B batches should be long compared with the
    chains' autocorrelation (contiguous batch means)."""
    mom, full, loo = _batch_moments(cm, cv)
    b = mom.shape[1]
    if b < 4:
        raise NNFTError(f"cm: {b} batches; the jackknife bias correction needs at least 4")
    gm, gv = np.asarray(gp_mean, np.float64), np.asarray(gp_var_y, np.float64)
    d2_full = float(np.mean(_sq_w2(*full, s2, gm, gv)))
    d2_loo = np.mean(_sq_w2(*loo, s2, gm, gv), axis=-1)
    d2 = b * d2_full - (b - 1) * float(d2_loo.mean())
    d2_se = float(jackknife_se(d2_loo))
    raw, raw_se = w2_to_gp(cm, cv, s2, gm, gv)
    resolved = d2 > se_threshold(1, 4.0, b - 1) * d2_se
    return W2Estimate.from_d2(d2, d2_se, d2_full, resolved, raw, raw_se, b)


def batches(dt, var: str = "f_test", per_chain: int = 8) -> np.ndarray:
    """Draws of `var` as (chains * per_chain, S, m) contiguous blocks (batch means)."""
    a = np.asarray(dt.posterior[var])  # (chain, draw, m)
    c, s, m = a.shape
    k = max(1, min(per_chain, s // 10))
    s_use = (s // k) * k
    return a[:, :s_use].reshape(c * k, s_use // k, m)


def w2_of_tree(dt, s2: float, gp_mean, gp_var_y) -> W2Estimate:
    """`w2_estimate` on a network DataTree: Rao-Blackwellised when it holds the conditional
    test moments (a readout-collapsed run), from the draws of f otherwise."""
    if "f_test_cmean" in dt.posterior:
        return w2_estimate(batches(dt, "f_test_cmean"), batches(dt, "f_test_cvar"), s2, gp_mean, gp_var_y)
    return w2_estimate(batches(dt), None, s2, gp_mean, gp_var_y)


def psis_loo(dt) -> dict:
    """PSIS-LOO ELPD of a network posterior with its SE and the Pareto-k check. On a
    readout-collapsed tree it uses the readout-integrated pointwise densities (group
    `log_likelihood_integrated`; integrated importance sampling, weights depending on the
    hidden layer only), otherwise the standard `log_likelihood`."""
    method = "standard"
    if "log_likelihood_integrated" in dt.children:
        dt = dt.copy()
        dt["log_likelihood"] = dt["log_likelihood_integrated"].to_dataset()
        method = "integrated"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = azs.loo(dt, pointwise=True)
        except ValueError as e:  # e.g. a pointwise log-likelihood constant over draws (a stuck chain)
            n = int(np.asarray(dt.observed_data["y"]).size)
            return {
                "elpd": float("nan"),
                "se": float("nan"),
                "p_loo": float("nan"),
                "pareto_k_max": float("inf"),
                "n_pareto_k_bad": n,
                "trustworthy": False,
                "method": method,
                "error": f"PSIS-LOO failed: {e}",
            }
    k = np.asarray(res.pareto_k).ravel()
    n_bad = int(np.sum(k > PARETO_K_MAX))
    return {
        "elpd": float(res.elpd),
        "se": float(res.se),
        "p_loo": float(res.p),
        "pareto_k_max": float(np.max(k)),
        "n_pareto_k_bad": n_bad,
        "trustworthy": n_bad == 0,
        "method": method,
        "error": "",
    }


@dataclasses.dataclass
class Comparison:
    """Everything the side-by-side comparison produced, by width."""

    data: RegressionData
    gp: GPFit
    x_test: np.ndarray
    gp_pred: dict
    gp_elpd: dict
    nets: dict  # width -> DataTree
    rows: list  # one summary dict per width

    def table(self) -> str:
        """The per-width summary as a Markdown table. W2 is debiased for Monte Carlo noise (`w2_estimate`):
        the noise floor column is what the noise alone added to the plug-in value (raw, for comparison);
        W2 not resolved above 0 (4 SE) is marked `~0`."""
        head = (
            "| width | W2 to GP (debiased) | SE | resolved | noise floor | raw W2 (SE) | ELPD-LOO (SE) | "
            "Pareto k max | k > 0.7 | R-hat max | divergences | warnings |"
        )
        lines = [head, "|" + "---|" * 12]
        for r in self.rows:
            lines.append(
                f"| {r['width']} | {r['w2']:.4f} | {r['w2_se']:.4f} | {'yes' if r['w2_resolved'] else '~0'} | "
                f"{r['w2_noise_floor']:.4f} | {r['w2_raw']:.4f} ({r['w2_raw_se']:.4f}) | "
                f"{r['elpd']:.2f} ({r['elpd_se']:.2f}) | "
                f"{r['pareto_k_max']:.2f} | {r['n_pareto_k_bad']} | {r['rhat_max']:.4f} | {r['divergences']} | "
                f"{r['warnings'] or '-'} |"
            )
        g = self.gp_elpd
        lines.append(f"| GP (inf) | 0 | - | - | - | - | {g['elpd']:.2f} ({g['se']:.2f}) | exact LOO | - | - | - | - |")
        return "\n".join(lines)


#: old spellings of compare_widths's arguments (one release, with a DeprecationWarning) -> NumPyro's names
RENAMED_COMPARE = {"seed": "rng_key", "progress": "progress_bar"}


def compare_widths(
    arch: Architecture,
    data: RegressionData,
    widths=(4, 16, 64, 256),
    *,
    n_grid: int = 40,
    fit_iters: int = 200,
    init_noise: float = 0.5,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 4,
    rng_key=0,
    progress_bar: bool = False,
    **deprecated,
) -> Comparison:
    """Fit the NNGP by the marginal likelihood, then sample the network at each width
    with the fitted prior scales and noise held fixed, and compare predictive
    distributions, ELPDs and diagnostics.

    NumPyro's argument names: `rng_key` is an int seed or a JAX key (width i runs on
    `fold_in(rng_key, i)`; an int seed s on the seed s + i, as before); the old `seed` and
    `progress` still work for one release, with a `DeprecationWarning`."""
    opts = _renamed(deprecated, {"rng_key": rng_key, "progress_bar": progress_bar}, "compare_widths", RENAMED_COMPARE)
    if not isinstance(data, RegressionData):
        raise NNFTError(f"data: expected a RegressionData, got {type(data).__name__}")
    widths = [V.integer("widths", w) for w in widths]
    if not widths:
        raise NNFTError("widths: need at least one width")
    if not hasattr(arch, "width"):
        raise NNFTError(f"arch: {arch.name} has no width to vary")
    keys = _width_keys(opts["rng_key"], len(widths))
    # The network has no mean offset or output rescaling: its N -> infinity limit is the zero-mean GP of y
    # itself, so the GP is fitted to y in the network's units (a standardised fit is another model, and
    # W2 would level off at the distance between the two models instead of falling like 1/N).
    gp = fit_gp(arch, data.x, data.y, noise=init_noise, num_iters=fit_iters, standardize=False)
    xt = input_grid(data, n_grid)
    gp_pred = gp.predict(xt)
    nuts = {"noise": gp.noise, "num_warmup": num_warmup, "num_samples": num_samples, "num_chains": num_chains}
    nets, rows = {}, []
    for w, key in zip(widths, keys, strict=True):
        dt = run_nuts(gp.arch.at_width(w), data.x, data.y, xt, rng_key=key, progress_bar=opts["progress_bar"], **nuts)
        nets[w] = dt
        rows.append(_width_row(w, dt, data, gp.noise**2, gp_pred))
    return Comparison(data, gp, xt, gp_pred, gp.elpd_loo(), nets, rows)


def _width_keys(rng_key, n: int) -> list:
    """One NUTS key per width: seeds s, s + 1, ... for an int seed (the old results), else fold_in(key, i)."""
    if isinstance(rng_key, (int, np.integer)) and not isinstance(rng_key, bool):
        seed = V.integer("rng_key", rng_key, minimum=0)
        return [seed + i for i in range(n)]
    key = as_key(rng_key, "rng_key")
    return [jax.random.fold_in(key, i) for i in range(n)]


def _width_row(w: int, dt, data: RegressionData, s2: float, gp_pred: dict) -> dict:
    """The summary row of one width (debiased W2 to the GP, PSIS-LOO, diagnostics); records them in `dt.attrs`."""
    w2 = w2_of_tree(dt, s2, gp_pred["mean"], gp_pred["var_y"])
    loo = psis_loo(dt)
    w2_attrs = {"w2_to_gp": w2.w2, "w2_to_gp_se": w2.w2_se, "w2_to_gp_method": "debiased (jackknife)"}
    w2_attrs.update({"w2_to_gp_noise_floor": w2.noise_floor, "w2_to_gp_raw": w2.raw, "w2_to_gp_raw_se": w2.raw_se})
    dt.attrs.update({**data.attrs(), **w2_attrs, **{f"loo_{k}": v for k, v in loo.items()}})
    dt.attrs["loo_trustworthy"] = int(loo["trustworthy"])
    return {
        "width": w,
        "w2": w2.w2,
        "w2_se": w2.w2_se,
        "w2_resolved": w2.resolved,
        "w2_noise_floor": w2.noise_floor,
        "w2_raw": w2.raw,
        "w2_raw_se": w2.raw_se,
        "elpd": loo["elpd"],
        "elpd_se": loo["se"],
        "pareto_k_max": loo["pareto_k_max"],
        "n_pareto_k_bad": loo["n_pareto_k_bad"],
        "loo_method": loo["method"],
        "rhat_max": float(dt.attrs["rhat_max"]),
        "divergences": int(dt.attrs["divergences"]),
        "warnings": "; ".join(m for m in (dt.attrs["warnings"], loo["error"]) if m),
    }


def plot_comparison(cmp: Comparison, path=None, *, ax=None) -> Figure:
    """Predictive mean and 90% band of y for each width against the GP, one panel per width
    (`ax`: one axes per width, or a new figure), W2 to the GP with its SE in each title.
    Writes a PNG when `path` is given; returns the Figure."""
    n = len(cmp.nets)
    if ax is None:
        fig = Figure(figsize=(3.6 * n, 3.4), layout="constrained")
        axes = list(fig.subplots(1, n, sharey=True, squeeze=False)[0])
    else:
        axes = [ax] if isinstance(ax, Axes) else list(np.ravel(ax))
        if len(axes) != n:
            raise NNFTError(f"ax: need {n} axes (one per width), got {len(axes)}")
        fig = axes[0].figure
    for a, (w, dt) in zip(axes, cmp.nets.items(), strict=True):
        row = next(r for r in cmp.rows if r["width"] == w)
        _panel(a, cmp, w, dt)
        a.set_title(f"N = {w}: W2 to GP = {row['w2']:.3f} ± {row['w2_se']:.3f}", fontsize=9)
    axes[0].set_ylabel("y (standardised)")
    fig.suptitle(f"{cmp.data.name}: network posterior vs NNGP, 90% predictive bands", fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _panel(ax: Axes, cmp: Comparison, w: int, dt) -> None:
    """One width: the GP's band (grey, hatched) and the network's (orange), the data and the truth."""
    xt, g = cmp.x_test[:, 0], cmp.gp_pred
    m = predictive_moments(dt, cmp.gp.noise)
    bands = (
        (g["mean"], g["var_y"], "0.25", "--", {"hatch": "///", "facecolor": "none", "edgecolor": "0.45"}, "GP (N = ∞)"),
        (m["mean"], m["var_y"], "C1", "-", {"color": "C1", "alpha": 0.3}, f"network N = {w}"),
    )
    for mean, var, col, ls, fill, lab in bands:
        half = Z90 * np.sqrt(var)
        ax.fill_between(xt, mean - half, mean + half, lw=0.0, label=f"{lab}: 90% band", **fill)
        ax.plot(xt, mean, color=col, ls=ls, lw=1.5, label=f"{lab}: mean")
    ax.scatter(cmp.data.x[:, 0], cmp.data.y, s=8, color="C3", zorder=3, label="data")
    if cmp.data.true_fn is not None:
        ax.plot(xt, cmp.data.true_fn(cmp.x_test), "C2:", lw=1, label="truth")
    ax.set_xlabel("x (standardised)")
    ax.legend(fontsize=6, loc="best")
