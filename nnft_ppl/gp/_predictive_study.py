# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""The predictive comparison as a study: the NNGP posterior, the NTK-GP, deep ensembles and NUTS
Bayesian networks at several widths on one regression with held-out points; W2 between each pair with
errors, held-out ELPD, and each finite-width distance to its infinite-width limit against width."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import xarray as xr

from .. import _conventions as C
from .. import _validate as V
from .._errors import NNFTError
from ..architectures import Architecture
from ..theory import fit_width_scaling
from ._bnn import run_nuts
from ._predictive import (
    Predictive,
    bnn_predictive,
    elpd_difference,
    ensemble_predictive,
    heldout_elpd,
    nngp_predictive,
    ntk_gp_predictive,
    ntk_learning_rate,
    w2_between,
)

#: the four predictives by short name; "BNN" and "ensemble" are per width
METHODS = ("BNN", "NNGP", "NTK-GP", "ensemble")
PAIRS = tuple((a, b) for i, a in enumerate(METHODS) for b in METHODS[i + 1 :])
#: each finite-width predictive and its infinite-width limit
LIMITS = {"BNN": "NNGP", "ensemble": "NTK-GP"}


@dataclasses.dataclass
class PredictiveStudy:
    """Every predictive at the grid points followed by the held-out points (`limits`: exact NNGP and
    NTK-GP; `ensembles`, `bnns`: by width), with the data, the noise, the training schedule, the NUTS
    trees (`bnn_trees`) and the ensembles' final training losses."""

    arch: Architecture
    x_train: np.ndarray
    y_train: np.ndarray
    x_grid: np.ndarray
    x_heldout: np.ndarray
    y_heldout: np.ndarray
    noise: float
    time: float
    learning_rate: float
    limits: dict
    ensembles: dict
    bnns: dict
    bnn_trees: dict
    train_loss: dict

    @property
    def grid(self) -> slice:
        return slice(0, self.x_grid.shape[0])

    @property
    def heldout(self) -> slice:
        return slice(self.x_grid.shape[0], None)

    @property
    def widths(self) -> list[int]:
        return sorted(set(self.ensembles) | set(self.bnns))

    def predictive(self, method: str, width: int | None = None) -> Predictive | None:
        """One predictive by method name (and width for "BNN" / "ensemble"), None if not run."""
        if method in self.limits:
            return self.limits[method]
        return {"BNN": self.bnns, "ensemble": self.ensembles}[method].get(width)


def predictive_study(
    arch: Architecture,
    x_train,
    y_train,
    x_grid,
    x_heldout,
    y_heldout,
    noise: float,
    *,
    ensemble_widths=(64, 256, 1024),
    bnn_widths=(),
    n_networks: int = 256,
    time: float | None = None,
    learning_rate: float | None = None,
    nuts: dict | None = None,
    key: int = 0,
    progress_bar: bool = False,
) -> PredictiveStudy:
    """Run the four predictives of `arch` (its prior scales; width set per run) on one data set.

    The NTK-GP and the ensembles train by gradient descent with `learning_rate` (default
    `ntk_learning_rate`, half the largest stable step at infinite width) up to `time` (default
    1 / noise^2: the flow passes the NTK eigenmodes with eigenvalue above 1 / t, as the NNGP posterior
    passes those above noise^2), the NTK-GP with the same discrete steps. `nuts`: `run_nuts` options."""
    if not isinstance(arch, Architecture) or not hasattr(arch, "width"):
        raise NNFTError(f"arch: expected an Architecture with a width, got {type(arch).__name__}")
    s = V.positive("noise", noise)
    xt = np.asarray(arch.points(x_train, "x_train"), np.float64)
    xg = np.asarray(arch.points(x_grid, "x_grid"), np.float64)
    xh = np.asarray(arch.points(x_heldout, "x_heldout"), np.float64)
    yh = np.asarray(y_heldout, np.float64)
    if yh.shape != (xh.shape[0],):
        raise NNFTError(f"y_heldout: shape {yh.shape} does not match x_heldout's {xh.shape[0]} points")
    ew = [V.integer("ensemble_widths", w) for w in ensemble_widths]
    bw = [V.integer("bnn_widths", w) for w in bnn_widths]
    lr = ntk_learning_rate(arch, xt) if learning_rate is None else V.positive("learning_rate", learning_rate)
    t = 1.0 / s**2 if time is None else V.positive("time", time)
    t = lr * max(1, round(t / lr))  # the time the discrete steps reach
    x_all = np.concatenate([xg, xh])
    limits = {
        "NNGP": nngp_predictive(arch, xt, y_train, x_all, s),
        "NTK-GP": ntk_gp_predictive(arch, xt, y_train, x_all, s, time=t, learning_rate=lr),
    }
    ensembles, losses = {}, {}
    for i, w in enumerate(ew):
        ensembles[w], losses[w] = ensemble_predictive(
            arch.at_width(w), xt, y_train, x_all, s, time=t, learning_rate=lr, n_networks=n_networks, key=key + i
        )
    bnns, trees = {}, {}
    opts = {"num_warmup": 500, "num_samples": 500, "num_chains": 4, **(nuts or {})}
    for i, w in enumerate(bw):
        dt = run_nuts(arch.at_width(w), xt, y_train, x_all, rng_key=key + i, noise=s, progress_bar=progress_bar, **opts)
        trees[w], bnns[w] = dt, bnn_predictive(dt, s)
    return PredictiveStudy(arch, xt, np.asarray(y_train), xg, xh, yh, s, t, lr, limits, ensembles, bnns, trees, losses)


def pair_distances(study: PredictiveStudy) -> xr.Dataset:
    """W2 (debiased, `w2_between`) between each pair of predictives on the grid, by width (a pair of
    the two limits is the same at every width; NaN where a predictive was not run at that width)."""
    widths = study.widths
    names = ("w2", "w2_se", "d2", "d2_se", "noise_floor", "resolved")
    out = {k: np.full((len(widths), len(PAIRS)), np.nan) for k in names}
    for i, w in enumerate(widths):
        for j, (a, b) in enumerate(PAIRS):
            p, q = study.predictive(a, w), study.predictive(b, w)
            if p is None or q is None:
                continue
            est = w2_between(p.at(study.grid), q.at(study.grid))
            for k in names:
                out[k][i, j] = float(getattr(est, k))
    return xr.Dataset(
        {k: (("width", "pair"), v) for k, v in out.items()},
        coords={"width": widths, "pair": [f"{a} vs {b}" for a, b in PAIRS]},
        attrs={"distance": "W2 between Gaussian approximations of the predictives of y, RMS over the grid"},
    )


def heldout_table(study: PredictiveStudy) -> xr.Dataset:
    """Held-out ELPD of every predictive with its SE over the points, its Monte Carlo SE, the
    difference from the NNGP's with the paired SE, and the pointwise log densities."""
    runs = [("NNGP", 0, study.limits["NNGP"]), ("NTK-GP", 0, study.limits["NTK-GP"])]
    runs += [("ensemble", w, p) for w, p in sorted(study.ensembles.items())]
    runs += [("BNN", w, p) for w, p in sorted(study.bnns.items())]
    res = [heldout_elpd(p.at(study.heldout), study.y_heldout) for _, _, p in runs]
    diffs = [elpd_difference(r, res[0]) for r in res]
    labels = [m if w == 0 else f"{m} N={w}" for m, w, _ in runs]
    return xr.Dataset(
        {
            "elpd": ("predictive", [r["elpd"] for r in res]),
            "elpd_se": ("predictive", [r["se"] for r in res]),
            "elpd_mc_se": ("predictive", [r["mc_se"] for r in res]),
            "elpd_diff_nngp": ("predictive", [d[0] for d in diffs]),
            "elpd_diff_nngp_se": ("predictive", [d[1] for d in diffs]),
            "lpd": (("predictive", "heldout_point"), np.stack([r["pointwise"] for r in res])),
            "method": ("predictive", [m for m, _, _ in runs]),
            "width": ("predictive", [w for _, w, _ in runs]),
        },
        coords={"predictive": labels, "heldout_point": C.point_values(study.x_heldout)},
        attrs={"n_heldout": int(study.y_heldout.size), "se": "sqrt(n var(lpd)) over the held-out points"},
    )


def distance_scaling(dist: xr.Dataset, pair: str, expected: float = -1.0) -> dict:
    """Fit W2 ~ C N^slope for one pair over the widths where it is resolved (`fit_width_scaling`), and
    the amplitude at the `expected` slope: A = N^-expected W2 per width, their weighted mean and
    chi2 / dof (a constant A is what the expected law predicts); `local_slopes` between consecutive
    widths (all with a finite W2 and SE) show where the asymptotic law sets in."""
    d = dist.sel(pair=pair)
    ok = np.isfinite(d.w2.values) & (d.resolved.values > 0)
    w, v, e = d.width.values[ok], d.w2.values[ok], d.w2_se.values[ok]
    out = {"pair": pair, "widths_used": [int(x) for x in w], "expected_slope": expected}
    a, a_se = v * w ** (-expected), e * w ** (-expected)
    if a.size:
        wt = 1.0 / np.maximum(a_se, 1e-300) ** 2
        mean = float(np.sum(wt * a) / np.sum(wt))
        chi2 = float(np.sum(wt * (a - mean) ** 2))
        out.update(amplitude=mean, amplitude_se=float(1 / math.sqrt(np.sum(wt))), amplitude_chi2=chi2)
        out["amplitude_dof"] = int(a.size - 1)
        out["amplitude_by_width"] = [float(x) for x in a]
    fin = np.isfinite(d.w2.values) & (d.w2_se.values > 0)
    out["local_slopes"] = _local_slopes(d.width.values[fin], d.w2.values[fin], d.w2_se.values[fin])
    try:
        fit = fit_width_scaling(w, v, e)
    except NNFTError as err:
        out["fit"] = f"no slope: {err}"
        return out
    out.update(slope=fit.slope, slope_se=fit.slope_se, ci_low=fit.ci_low, ci_high=fit.ci_high)
    out.update(fit_amplitude=math.exp(fit.intercept), fit_chi2=fit.chi2, fit_dof=fit.dof, fit="ok")
    return out


def _local_slopes(w, v, e) -> list[tuple[int, int, float, float]]:
    """(N1, N2, slope, SE) between consecutive widths: log(W2_2 / W2_1) / log(N2 / N1), errors in quadrature."""
    out = []
    for i in range(len(w) - 1):
        if v[i] > 0 and v[i + 1] > 0:
            span = math.log(w[i + 1] / w[i])
            se = math.hypot(e[i] / v[i], e[i + 1] / v[i + 1]) / span
            out.append((int(w[i]), int(w[i + 1]), math.log(v[i + 1] / v[i]) / span, se))
    return out


def split_heldout(x, y, n_heldout: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A random split into training and `n_heldout` held-out points: (x_train, y_train, x_heldout,
    y_heldout), each part in its original order."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n_heldout = V.integer("n_heldout", n_heldout)
    if not 0 < n_heldout < x.shape[0] - 1:
        raise NNFTError(f"n_heldout: {n_heldout} of {x.shape[0]} points leaves too few to train on")
    held = np.zeros(x.shape[0], bool)
    held[np.random.default_rng(seed).choice(x.shape[0], n_heldout, replace=False)] = True
    return x[~held], y[~held], x[held], y[held]
