# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Four predictive distributions of one regression, side by side (issue 14 item 5).

- `nngp_predictive`: the exact NNGP posterior (Bayesian inference at infinite width),
  K_xX (K_XX + s^2 I)^-1 y with the architecture's NNGP kernel K and the noise s.
- `ntk_gp_predictive`: the NTK-GP, the infinite-width ensemble trained by gradient descent on the
  squared loss up to time t (Lee et al. 2019, arXiv:1902.06720, eq. 16; `dynamics.lazy_prediction`):
  mean Theta_xX Theta_XX^-1 (I - exp(-Theta_XX t)) y, covariance from K and Theta.
- `ensemble_predictive`: a deep ensemble, M finite-width networks trained the same way at once
  (NTK parametrisation, `dynamics.ensemble_trainer`).
- `bnn_predictive`: the NUTS posterior of the finite-width Bayesian network (`run_nuts`).

Every predictive of y is the latent f plus Gaussian noise of variance s^2. A sampled predictive is the
mixture over its draws (networks, or posterior draws with the readout's conditional moments) kept in B
contiguous batches for jackknife errors; an exact one has no draws and no Monte Carlo error.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float
from scipy.special import logsumexp

from .. import _tails
from .. import _validate as V
from .._errors import NNFTError
from .._x64 import float64
from ..architectures import Architecture
from ..dynamics import Parametrized, ensemble_trainer, lazy_prediction, ntk_kernel, run
from ..stats import jackknife_se, se_threshold
from ._compare import W2Estimate, batches


class Predictive(NamedTuple):
    """A predictive distribution of f (and of y = f + noise) at P points.

    `cm`/`cv`: conditional means and variances of f, (B, S, P): B batches of S draws, the predictive
    being the equal-weight mixture of N(cm, cv + noise^2). An exact Gaussian has B = S = 1 and
    `exact` True."""

    name: str
    cm: np.ndarray
    cv: np.ndarray
    noise: float
    exact: bool

    @property
    def mean(self) -> np.ndarray:
        return self.cm.mean((0, 1))

    @property
    def var_f(self) -> np.ndarray:
        return self.cv.mean((0, 1)) + self.cm.var((0, 1))

    @property
    def var_y(self) -> np.ndarray:
        return self.var_f + self.noise**2

    @property
    def n_batches(self) -> int:
        return 0 if self.exact else self.cm.shape[0]

    def mean_se(self) -> np.ndarray:
        """Monte Carlo SE of `mean` (batch means; zero when exact)."""
        if self.exact:
            return np.zeros(self.cm.shape[-1])
        return self.cm.mean(1).std(0, ddof=1) / math.sqrt(self.cm.shape[0])

    def khat(self) -> float:
        """Pareto k-hat of the summands of the variance, |cm - mean|^2, the largest over the points
        (`nnft_ppl._tails`; -inf when exact): above 0.5 the SEs of the variance are not reliable."""
        if self.exact:
            return -math.inf
        dev = np.abs(self.cm - self.mean).reshape(-1, self.cm.shape[-1]).T  # (P, draws)
        return _tails.max_khat(dev, dev.shape[1], 2.0)

    def at(self, idx) -> Predictive:
        """The same predictive at a subset of its points."""
        return self._replace(cm=self.cm[..., idx], cv=self.cv[..., idx])


def gaussian(name: str, mean, var_f, noise: float) -> Predictive:
    """An exact Gaussian predictive with latent mean and variance (P,)."""
    mean, var_f = np.asarray(mean, np.float64), np.asarray(var_f, np.float64)
    if mean.ndim != 1 or var_f.shape != mean.shape:
        raise NNFTError(f"mean, var_f: need two (P,) arrays, got {mean.shape} and {var_f.shape}")
    return Predictive(name, mean[None, None], np.maximum(var_f, 0.0)[None, None], float(noise), True)


def sampled(name: str, draws, noise: float, cv=None, n_batches: int = 16) -> Predictive:
    """A mixture predictive from draws of f (N, P) (or their conditional means, with conditional
    variances `cv`), in `n_batches` contiguous batches (the remainder is dropped)."""
    f = np.asarray(draws, np.float64)
    if f.ndim != 2:
        raise NNFTError(f"draws: need a (draws, points) array, got shape {f.shape}")
    v = np.zeros_like(f) if cv is None else np.asarray(cv, np.float64)
    if v.shape != f.shape:
        raise NNFTError(f"cv: shape {v.shape} differs from the draws' {f.shape}")
    b = V.integer("n_batches", n_batches, minimum=4)
    s = f.shape[0] // b
    if s < 1:
        raise NNFTError(f"n_batches: {b} batches of {f.shape[0]} draws leave none per batch")
    p = f.shape[1]
    return Predictive(name, f[: b * s].reshape(b, s, p), v[: b * s].reshape(b, s, p), float(noise), False)


def _check(arch, x_train, y_train, x, noise):
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
    xt = np.asarray(arch.points(x_train, "x_train"), np.float64)
    y = np.asarray(y_train, np.float64)
    if y.ndim != 1 or y.shape[0] != xt.shape[0]:
        raise NNFTError(f"y_train: shape {y.shape} does not match x_train's {xt.shape[0]} points")
    if not np.all(np.isfinite(y)):
        raise NNFTError("y_train: must be finite")
    return xt, y, np.asarray(arch.points(x, "x"), np.float64), V.positive("noise", noise)


@float64
def nngp_predictive(arch: Architecture, x_train, y_train, x: Float[Array, "P d"], noise: float) -> Predictive:
    """The exact NNGP posterior predictive at x: mean K_xX S^-1 y, var K_xx - K_xX S^-1 K_Xx,
    S = K_XX + noise^2 I (float64 Cholesky)."""
    xt, y, x, s = _check(arch, x_train, y_train, x, noise)
    xj, xtj = jnp.asarray(x), jnp.asarray(xt)
    k_xX = np.asarray(arch.nngp_kernel(xj, xtj))
    k_XX = np.asarray(arch.nngp_kernel(xtj, xtj))
    k_xx = np.diag(np.asarray(arch.nngp_kernel(xj, xj)))
    chol = np.linalg.cholesky(k_XX + s**2 * np.eye(len(y)))
    v = np.linalg.solve(chol, k_xX.T)
    alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, y))
    return gaussian("NNGP", k_xX @ alpha, k_xx - np.sum(v * v, axis=0), s)


@float64
def ntk_learning_rate(arch: Architecture, x_train) -> float:
    """1 / (largest eigenvalue of the analytic NTK on the training points): half the largest stable
    gradient-descent step of the infinite-width network."""
    xt = jnp.asarray(arch.points(x_train, "x_train"), jnp.float64)
    return float(1.0 / np.linalg.eigvalsh(np.asarray(ntk_kernel(arch, xt, xt)))[-1])


@float64
def ntk_gp_predictive(
    arch: Architecture,
    x_train,
    y_train,
    x: Float[Array, "P d"],
    noise: float,
    time: float = math.inf,
    learning_rate: float | None = None,
) -> Predictive:
    """The NTK-GP at x: the infinite-width ensemble trained to `time` (inf: kernel regression with the
    NTK), by gradient descent with `learning_rate` (None: gradient flow), from `lazy_prediction`."""
    xt, y, x, s = _check(arch, x_train, y_train, x, noise)
    t = float(time)
    if not t > 0:
        raise NNFTError(f"time: must be positive, got {time}")
    mean, cov = lazy_prediction(arch, xt, y, x, [t], learning_rate=learning_rate)
    return gaussian("NTK-GP", mean[0], np.diag(cov[0]), s)


@float64
def ensemble_predictive(
    arch: Architecture,
    x_train,
    y_train,
    x: Float[Array, "P d"],
    noise: float,
    *,
    time: float,
    learning_rate: float,
    n_networks: int = 256,
    key=0,
    n_batches: int = 16,
) -> tuple[Predictive, np.ndarray]:
    """A deep ensemble: `n_networks` networks of `arch` (NTK parametrisation, its own width) trained
    at once by gradient descent with `learning_rate` for round(time / learning_rate) steps on the
    loss (1/2) sum of squared residuals. Returns the mixture predictive at x and each network's final
    training loss. Divergence raises `NNFTNumericalError` naming the learning rate."""
    xt, y, x, s = _check(arch, x_train, y_train, x, noise)
    lr = V.positive("learning_rate", learning_rate)
    t = V.positive("time", time)
    n_networks = V.integer("n_networks", n_networks, minimum=8)
    steps = max(1, round(t / lr))
    trainer = ensemble_trainer(Parametrized(arch, "ntk"), xt, y, "sgd", lr)
    state = trainer.init(key, n_networks)
    _, rec = run(trainer, state, x, 1, steps, record_ntk=False)
    name = f"ensemble N={getattr(arch, 'width', '?')}"
    return sampled(name, np.asarray(rec.phi[-1]), s, n_batches=n_batches), np.asarray(rec.loss[-1])


def bnn_predictive(dt, noise: float, per_chain: int = 8) -> Predictive:
    """The posterior predictive of a `run_nuts` tree at its test points (Rao-Blackwellised with the
    readout's conditional moments when collapsed), in contiguous batches of draws per chain."""
    post = dt.posterior
    if "f_test" not in post:
        raise NNFTError("dt: the NUTS tree has no f_test (run run_nuts with x_test)")
    name = f"BNN N={dt.attrs.get('width', '?')}"
    if "f_test_cmean" in post:
        cm, cv = batches(dt, "f_test_cmean", per_chain), batches(dt, "f_test_cvar", per_chain)
    else:
        cm = batches(dt, "f_test", per_chain)
        cv = np.zeros_like(cm)
    return Predictive(name, cm, cv, float(V.positive("noise", noise)), False)


# ---- distances and held-out ELPD -----------------------------------------------------------------


def _moments(p: Predictive):
    """(E cm, E cm^2, E cv) over all draws, (3, P), and leaving out each batch, (3, B, P) (None if exact)."""
    mom = np.stack([p.cm.mean(1), (p.cm**2).mean(1), p.cv.mean(1)])  # (3, B, P)
    full = mom.mean(1)
    if p.exact:
        return full, None
    b = mom.shape[1]
    return full, (full[:, None] * b - mom) / (b - 1)


def _sq_w2(a, b, s2a: float, s2b: float) -> np.ndarray:
    """Squared per-point W2 between the Gaussian approximations (moments a, b) of two predictives of y."""
    va = np.maximum(a[2] + a[1] - a[0] ** 2, 0.0) + s2a
    vb = np.maximum(b[2] + b[1] - b[0] ** 2, 0.0) + s2b
    return (a[0] - b[0]) ** 2 + (np.sqrt(va) - np.sqrt(vb)) ** 2


def w2_between(p: Predictive, q: Predictive) -> W2Estimate:
    """W2 between the Gaussian approximations of two predictives of y, as `W2Estimate`: d2 the mean
    over the points of the squared per-point W2 with the Monte Carlo bias of each sampled side removed
    (delete-one-batch jackknife, each sample separately: they are independent) and its SE the two
    jackknife SEs in quadrature. Two exact predictives give the exact distance with zero error."""
    if p.cm.shape[-1] != q.cm.shape[-1]:
        raise NNFTError(f"q: {q.cm.shape[-1]} points, p has {p.cm.shape[-1]}")
    (fp, lp), (fq, lq) = _moments(p), _moments(q)
    sq = lambda a, b: _sq_w2(a, b, p.noise**2, q.noise**2)  # noqa: E731
    d2_full, raw_full = float(np.mean(sq(fp, fq))), float(np.mean(np.sqrt(sq(fp, fq))))
    sides = []  # per-point squared W2 leaving out each batch of one side, the other at its full sample
    if lp is not None:
        sides.append(np.stack([sq(lp[:, i], fq) for i in range(lp.shape[1])]))
    if lq is not None:
        sides.append(np.stack([sq(fp, lq[:, i]) for i in range(lq.shape[1])]))
    bias = sum((r.shape[0] - 1) * (r.mean(-1).mean() - d2_full) for r in sides)
    var = sum(float(jackknife_se(r.mean(-1))) ** 2 for r in sides)
    raw_var = sum(float(jackknife_se(np.sqrt(r).mean(-1))) ** 2 for r in sides)
    dofs = [r.shape[0] - 1 for r in sides]
    d2, d2_se = d2_full - bias, math.sqrt(var)
    resolved = d2 > 0 if not dofs else d2 > se_threshold(1, 4.0, min(dofs)) * d2_se
    return W2Estimate.from_d2(d2, d2_se, d2_full, resolved, raw_full, math.sqrt(raw_var), min(dofs) + 1 if dofs else 0)


def _lpd(cm, cv, s2, y) -> np.ndarray:
    """log of the equal-weight mixture over draws of N(y; cm, cv + s2), per point; cm, cv (N, P)."""
    var = cv + s2
    logp = -0.5 * (np.log(2 * np.pi * var) + (y - cm) ** 2 / var)
    return logsumexp(logp, axis=0) - math.log(cm.shape[0])


def heldout_elpd(p: Predictive, y: Float[Array, " n"]) -> dict:
    """ELPD of held-out targets y (p at the held-out points): the pointwise log predictive densities,
    their sum `elpd`, its `se` over the points (sqrt(n var), as ArviZ), and `mc_se`, the Monte Carlo
    SE of the sum (delete-one-batch jackknife; zero when exact)."""
    y = np.asarray(y, np.float64)
    if y.ndim != 1 or y.shape[0] != p.cm.shape[-1]:
        raise NNFTError(f"y: shape {y.shape} does not match the predictive's {p.cm.shape[-1]} points")
    n_pts = y.shape[0]
    flat = lambda a: a.reshape(-1, n_pts)  # noqa: E731
    s2 = p.noise**2
    lpd = _lpd(flat(p.cm), flat(p.cv), s2, y)
    mc_se = 0.0
    if not p.exact:
        b = p.cm.shape[0]
        keep = [np.delete(np.arange(b), i) for i in range(b)]
        reps = np.array([_lpd(flat(p.cm[k]), flat(p.cv[k]), s2, y).sum() for k in keep])
        mc_se = float(jackknife_se(reps))
    return {"pointwise": lpd, "elpd": float(lpd.sum()), "se": float(math.sqrt(n_pts * lpd.var())), "mc_se": mc_se}


def elpd_difference(a: dict, b: dict) -> tuple[float, float]:
    """ELPD(a) - ELPD(b) on the same held-out points, with the paired SE sqrt(n var(lpd_a - lpd_b))."""
    d = np.asarray(a["pointwise"]) - np.asarray(b["pointwise"])
    return float(d.sum()), float(math.sqrt(d.size * d.var()))
