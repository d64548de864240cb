# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""The infinite-width network as a GP regression model: hyperparameters by the
marginal likelihood (GPJax's own fitting with scipy L-BFGS or an optax optimiser),
predictions, and the exact leave-one-out predictive densities."""

from __future__ import annotations

import dataclasses
import math
import warnings

import equinox as eqx
import gpjax as gpx
import jax
import jax.numpy as jnp
import jax.scipy as jsp
import numpy as np
import optax
import paramax
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError
from ..architectures import Architecture
from ._data import check_xy
from ._kernels import NNGPKernel, arch_from_kernel

#: relative jitters tried, in order, when the kernel matrix is not numerically positive definite
JITTER_LADDER = (0.0, 1e-10, 1e-8, 1e-6, 1e-4)


class GPWarning(UserWarning):
    """A numerical repair (jitter) or a questionable fit; recorded, never silent."""


def build_model(
    arch: Architecture | NNGPKernel,
    noise: float = 0.1,
    *,
    fit_noise: bool = True,
    trainable: tuple[str, ...] | None = None,
    jitter: float = 1e-10,
) -> gpx.ConjugateModel:
    """Zero-mean GP prior with the architecture's NNGP kernel times a Gaussian likelihood."""
    noise = V.positive("noise", noise)
    kernel = arch if isinstance(arch, NNGPKernel) else NNGPKernel(arch, trainable)
    prior = gpx.gps.Prior(kernel=kernel, mean_function=gpx.mean_functions.Zero(), jitter=float(jitter))
    lik = gpx.likelihoods.Gaussian(obs_stddev=jnp.asarray(noise, jnp.float64))
    if not fit_noise:
        lik = eqx.tree_at(lambda m: m.obs_stddev, lik, paramax.non_trainable(lik.obs_stddev))
    return prior * lik


def noise_std(model: gpx.ConjugateModel) -> float:
    return float(gpx.parameters.val(model.likelihood.obs_stddev))


def safe_jitter(model: gpx.ConjugateModel, x: Float[Array, "n d"], where: str = "kernel") -> float:
    """Smallest jitter from `JITTER_LADDER` (relative to the mean diagonal) that makes
    K + noise^2 I factorable; warns when one is needed, raises `NNFTError` when none helps."""
    k = np.asarray(_gram(model.prior.kernel, jnp.asarray(x)))
    if not np.all(np.isfinite(k)):
        raise NNFTError(f"{where}: the kernel matrix contains NaN or inf (check the prior scales and inputs)")
    s2 = noise_std(model) ** 2
    scale = float(np.mean(np.diag(k))) + s2
    base = float(model.prior.jitter)
    for rel in JITTER_LADDER:
        jit = max(base, rel * scale)
        try:
            np.linalg.cholesky(k + (s2 + jit) * np.eye(k.shape[0]))
        except np.linalg.LinAlgError:
            continue
        if jit > base:
            warnings.warn(
                f"{where}: K + noise^2 I is not numerically positive definite; added jitter {jit:.3g}",
                GPWarning,
                stacklevel=3,
            )
        return jit
    raise NNFTError(
        f"{where}: the kernel matrix is not positive definite even with jitter {JITTER_LADDER[-1]:g} x mean diagonal"
    )


_gram = eqx.filter_jit(lambda kernel, x: kernel.gram(x).as_matrix())


@eqx.filter_jit
def _condition_predict(model, x, y, xt):
    """Log marginal likelihood and diagonal predictive moments at xt, one factorisation, jitted."""
    post = model.condition(gpx.Dataset(X=x, y=y[:, None]))
    dist = post(xt, covariance="diagonal")
    return post.log_marginal_likelihood, dist.mean, dist.variance


def _with_jitter(model: gpx.ConjugateModel, jitter: float) -> gpx.ConjugateModel:
    if jitter == model.prior.jitter:
        return model
    prior = gpx.gps.Prior(kernel=model.prior.kernel, mean_function=model.prior.mean_function, jitter=float(jitter))
    return prior * model.likelihood


@dataclasses.dataclass
class GPFit:
    """A fitted NNGP regression: the GPJax model, its training data and the fit record."""

    model: gpx.ConjugateModel
    x: np.ndarray
    y: np.ndarray
    history: np.ndarray
    notes: list[str] = dataclasses.field(default_factory=list)
    _lml: float | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def kernel(self) -> NNGPKernel:
        return self.model.prior.kernel

    @property
    def arch(self) -> Architecture:
        """The architecture with the fitted prior scales."""
        return arch_from_kernel(self.kernel)

    @property
    def noise(self) -> float:
        return noise_std(self.model)

    @property
    def jitter(self) -> float:
        return float(self.model.prior.jitter)

    @property
    def dataset(self) -> gpx.Dataset:
        return gpx.Dataset(X=jnp.asarray(self.x), y=jnp.asarray(self.y)[:, None])

    def posterior(self):
        """GPJax's exact posterior (cached Cholesky factor)."""
        return self.model.condition(self.dataset)

    @property
    def log_marginal_likelihood(self) -> float:
        if self._lml is None:
            self.predict(self.x[:1])
        return self._lml

    def predict(self, xt: Float[Array, "m d"]) -> dict[str, np.ndarray]:
        """Posterior mean and marginal variances of the latent f and of a new y at `xt`."""
        xt = V.points("xt", xt, self.x.shape[1])
        lml, mean, var = _condition_predict(self.model, jnp.asarray(self.x), jnp.asarray(self.y), jnp.asarray(xt))
        self._lml = float(lml)
        var_f = np.maximum(np.asarray(var) - self.jitter, 0.0)
        return {"mean": np.asarray(mean), "var_f": var_f, "var_y": var_f + self.noise**2}

    def loo(self) -> Float[Array, " n"]:
        """Exact leave-one-out log predictive densities log p(y_i | y_-i) from Sigma^-1
        (Rasmussen & Williams eq. 5.12)."""
        return np.asarray(exact_loo(self.model, self.x, self.y))

    def elpd_loo(self) -> dict:
        """Exact LOO ELPD: the sum of `loo()` with its standard error sqrt(n var)."""
        lp = self.loo()
        return {"elpd": float(lp.sum()), "se": float(math.sqrt(lp.size * lp.var())), "pointwise": lp}

    def summary(self) -> dict:
        return {
            **{k: round(v, 6) for k, v in self.kernel.values().items()},
            "noise": round(self.noise, 6),
            "log_marginal_likelihood": round(self.log_marginal_likelihood, 6),
        }


@eqx.filter_jit
def exact_loo(model: gpx.ConjugateModel, x, y) -> Float[Array, " n"]:
    """log N(y_i; y_i - alpha_i / [S^-1]_ii, 1 / [S^-1]_ii), S = K + (noise^2 + jitter) I, alpha = S^-1 y."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    k = model.prior.kernel.gram(x).as_matrix()
    s = k + (gpx.parameters.val(model.likelihood.obs_stddev) ** 2 + model.prior.jitter) * jnp.eye(x.shape[0])
    chol = jnp.linalg.cholesky(s)
    sinv = jsp.linalg.cho_solve((chol, True), jnp.eye(x.shape[0]))
    alpha = sinv @ y
    prec = jnp.diag(sinv)
    mu = y - alpha / prec
    return jax.scipy.stats.norm.logpdf(y, mu, jnp.sqrt(1.0 / prec))


def fit_gp(
    arch: Architecture,
    x,
    y,
    *,
    noise: float = 0.1,
    fit_noise: bool = True,
    trainable: tuple[str, ...] | None = None,
    optimizer: str = "scipy",
    num_iters: int = 200,
    learning_rate: float = 0.05,
    jitter: float = 1e-10,
) -> GPFit:
    """Fit the prior scales (and the noise) of the NNGP regression by maximising the
    marginal likelihood: `optimizer="scipy"` uses `gpx.fit_scipy` (L-BFGS-B),
    `"adam"` uses `gpx.fit` with `optax.adam(learning_rate)`; `num_iters=0` fits nothing."""
    xa, ya = check_xy(x, y)
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
    if xa.shape[1] != arch.d:
        raise NNFTError(f"x has input dimension {xa.shape[1]} but the architecture has d = {arch.d}")
    V.integer("num_iters", num_iters, minimum=0)
    if optimizer not in ("scipy", "adam"):
        raise NNFTError(f"optimizer: must be 'scipy' or 'adam', got {optimizer!r}")
    notes: list[str] = []
    model = build_model(arch, noise, fit_noise=fit_noise, trainable=trainable, jitter=jitter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GPWarning)
        model = _with_jitter(model, safe_jitter(model, xa, "kernel (initial scales)"))
        data = gpx.Dataset(X=jnp.asarray(xa), y=jnp.asarray(ya)[:, None])
        nmll = lambda m, d: -gpx.objectives.conjugate_mll(m, d)
        history = np.zeros(0)
        if num_iters > 0:
            if optimizer == "scipy":
                fitted, hist = gpx.fit_scipy(
                    model=model, objective=nmll, train_data=data, max_iters=num_iters, verbose=False
                )
            else:
                fitted, hist = gpx.fit(
                    model=model,
                    objective=nmll,
                    train_data=data,
                    optim=optax.adam(V.positive("learning_rate", learning_rate)),
                    num_iters=num_iters,
                    verbose=False,
                )
            history = np.asarray(hist)
            if np.all(np.isfinite(history)) and np.isfinite(float(nmll(fitted, data))):
                model = _with_jitter(fitted, safe_jitter(fitted, xa, "kernel (fitted scales)"))
            else:
                notes.append("marginal-likelihood fit produced non-finite values; kept the initial scales")
                warnings.warn(notes[-1], GPWarning, stacklevel=2)
    for w in caught:
        if issubclass(w.category, GPWarning):
            notes.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return GPFit(model, xa, ya, history, list(dict.fromkeys(notes)))
