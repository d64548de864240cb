# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Finite-width Bayesian networks against their infinite-width GP: predictive bands,
ELPD (PSIS-LOO for the networks, exact LOO for the GP), Pareto-k reliability, and a
2-Wasserstein distance between the predictive marginals with a jackknife SE."""

from __future__ import annotations

import dataclasses
import warnings

import arviz_stats as azs
import numpy as np
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError
from ..architectures import Architecture
from ..stats import jackknife_se
from ._bnn import predictive_moments, run_nuts
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
    """Mean over the grid of W2 between the network's Gaussian-approximated predictive
    marginals and the GP's. The network's are mixtures over posterior draws of N(cm, cv)
    (conditional moments given the hidden layer, or raw draws of f with `cv=None`) plus
    noise variance `s2`, in B batches of S draws; returns the estimate and its
    delete-one-batch jackknife standard error."""
    cm = np.asarray(cm)
    cv = np.zeros_like(cm) if cv is None else np.asarray(cv)
    b = cm.shape[0]

    def dist(keep):
        m, v = cm[keep].reshape(-1, cm.shape[-1]), cv[keep].reshape(-1, cm.shape[-1])
        return float(np.mean(w2_gaussian(m.mean(0), v.mean(0) + m.var(0) + s2, gp_mean, gp_var_y)))

    est = dist(np.arange(b))
    if b < 2:
        return est, float("nan")
    loo = np.array([dist(np.delete(np.arange(b), i)) for i in range(b)])
    return est, float(jackknife_se(loo))


def batches(dt, var: str = "f_test", per_chain: int = 8) -> np.ndarray:
    """Draws of `var` as (chains * per_chain, S, m) contiguous blocks (batch means)."""
    a = np.asarray(dt.posterior[var])  # (chain, draw, m)
    c, s, m = a.shape
    k = max(1, min(per_chain, s // 10))
    s_use = (s // k) * k
    return a[:, :s_use].reshape(c * k, s_use // k, m)


def w2_of_tree(dt, s2: float, gp_mean, gp_var_y) -> tuple[float, float]:
    """`w2_to_gp` on a network DataTree: Rao-Blackwellised when it holds the conditional
    test moments (a readout-collapsed run), from the draws of f otherwise."""
    if "f_test_cmean" in dt.posterior:
        return w2_to_gp(batches(dt, "f_test_cmean"), batches(dt, "f_test_cvar"), s2, gp_mean, gp_var_y)
    return w2_to_gp(batches(dt), None, s2, gp_mean, gp_var_y)


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
        """The per-width summary as a Markdown table."""
        head = "| width | W2 to GP | SE | ELPD-LOO (SE) | Pareto k max | k > 0.7 | R-hat max | divergences | warnings |"
        lines = [head, "|" + "---|" * 9]
        for r in self.rows:
            lines.append(
                f"| {r['width']} | {r['w2']:.4f} | {r['w2_se']:.4f} | {r['elpd']:.2f} ({r['elpd_se']:.2f}) | "
                f"{r['pareto_k_max']:.2f} | {r['n_pareto_k_bad']} | {r['rhat_max']:.4f} | {r['divergences']} | "
                f"{r['warnings'] or '-'} |"
            )
        g = self.gp_elpd
        lines.append(f"| GP (inf) | 0 | - | {g['elpd']:.2f} ({g['se']:.2f}) | exact LOO | - | - | - | - |")
        return "\n".join(lines)


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
    seed: int = 0,
    progress: bool = False,
) -> Comparison:
    """Fit the NNGP by the marginal likelihood, then sample the network at each width
    with the fitted prior scales and noise held fixed, and compare predictive
    distributions, ELPDs and diagnostics."""
    if not isinstance(data, RegressionData):
        raise NNFTError(f"data: expected a RegressionData, got {type(data).__name__}")
    widths = [V.integer("widths", w) for w in widths]
    if not widths:
        raise NNFTError("widths: need at least one width")
    if not hasattr(arch, "width"):
        raise NNFTError(f"arch: {arch.name} has no width to vary")
    gp = fit_gp(arch, data.x, data.y, noise=init_noise, num_iters=fit_iters)  # standardised y: noise O(1)
    xt = input_grid(data, n_grid)
    gp_pred = gp.predict(xt)
    gp_elpd = gp.elpd_loo()
    fitted = gp.arch
    kw = {f.name: getattr(fitted, f.name) for f in dataclasses.fields(fitted) if f.init}
    nets, rows = {}, []
    for i, w in enumerate(widths):
        net = type(fitted)(**{**kw, "width": w})
        dt = run_nuts(
            net,
            data.x,
            data.y,
            xt,
            noise=gp.noise,
            num_warmup=num_warmup,
            num_samples=num_samples,
            num_chains=num_chains,
            seed=seed + i,
            progress=progress,
        )
        est, se = w2_of_tree(dt, gp.noise**2, gp_pred["mean"], gp_pred["var_y"])
        loo = psis_loo(dt)
        dt.attrs.update({**data.attrs(), "w2_to_gp": est, "w2_to_gp_se": se, **{f"loo_{k}": v for k, v in loo.items()}})
        dt.attrs["loo_trustworthy"] = int(loo["trustworthy"])
        nets[w] = dt
        rows.append(
            {
                "width": w,
                "w2": est,
                "w2_se": se,
                "elpd": loo["elpd"],
                "elpd_se": loo["se"],
                "pareto_k_max": loo["pareto_k_max"],
                "n_pareto_k_bad": loo["n_pareto_k_bad"],
                "loo_method": loo["method"],
                "rhat_max": float(dt.attrs["rhat_max"]),
                "divergences": int(dt.attrs["divergences"]),
                "warnings": "; ".join(m for m in (dt.attrs["warnings"], loo["error"]) if m),
            }
        )
    return Comparison(data, gp, xt, gp_pred, gp_elpd, nets, rows)


def plot_comparison(cmp: Comparison, path=None):
    """Predictive mean and 90% band of y for each width against the GP, on one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xt = cmp.x_test[:, 0]
    fig, axes = plt.subplots(1, len(cmp.nets), figsize=(3.6 * len(cmp.nets), 3.2), sharey=True, squeeze=False)
    g = cmp.gp_pred
    for ax, (w, dt) in zip(axes[0], cmp.nets.items(), strict=True):
        m = predictive_moments(dt, cmp.gp.noise)
        for mean, var, col, lab in (
            (g["mean"], g["var_y"], "k", "GP (N = inf)"),
            (m["mean"], m["var_y"], "C0", f"NN N={w}"),
        ):
            ax.plot(xt, mean, color=col, label=lab)
            ax.fill_between(xt, mean - Z90 * np.sqrt(var), mean + Z90 * np.sqrt(var), color=col, alpha=0.15)
        ax.scatter(cmp.data.x[:, 0], cmp.data.y, s=8, color="C3", zorder=3)
        if cmp.data.true_fn is not None:
            ax.plot(xt, cmp.data.true_fn(cmp.x_test), "C2--", lw=1, label="truth")
        row = next(r for r in cmp.rows if r["width"] == w)
        ax.set_title(f"N={w}: W2={row['w2']:.3f}", fontsize=9)
        ax.set_xlabel("x (standardised)")
        ax.legend(fontsize=7, loc="best")
    axes[0][0].set_ylabel("y (standardised)")
    fig.suptitle(f"{cmp.data.name}: network posterior vs NNGP, 90% predictive bands", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
