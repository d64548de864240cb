# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""The infinite-width network as a GP regression model: hyperparameters by the
marginal likelihood (GPJax's own fitting with scipy BFGS or an optax optimiser),
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
import lineax as lx
import numpy as np
import paramax
from gpjax.linalg.utils import add_jitter
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError
from ..architectures import Architecture
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
    K + noise^2 I factorable; warns when one is needed, raises `NNFTError` when none helps.

    Each rung is one LAPACK Cholesky (jax's `potrf`, NaN on failure) of the jitted Gram
    matrix; `fit_gp` only comes here when GPJax's own factorisation with the model's
    jitter fails, so the usual fit factorises once."""
    return _ladder(model, x, where, skip_base=False)


def _ladder(model: gpx.ConjugateModel, x, where: str, *, skip_base: bool) -> float:
    k = _gram(model.prior.kernel, jnp.asarray(x))
    if not bool(jnp.all(jnp.isfinite(k))):
        raise NNFTError(f"{where}: the kernel matrix contains NaN or inf (check the prior scales and inputs)")
    s2 = noise_std(model) ** 2
    scale = float(jnp.mean(jnp.diagonal(k))) + s2
    base = float(model.prior.jitter)
    tried = {base} if skip_base else set()
    for rel in JITTER_LADDER:
        jit = max(base, rel * scale)
        if jit in tried:
            continue
        tried.add(jit)
        if not bool(_factorable(k, s2 + jit)):
            continue
        if jit > base:
            warnings.warn(
                f"{where}: K + noise^2 I is not numerically positive definite; added jitter {jit:.3g}",
                GPWarning,
                stacklevel=4,
            )
        return jit
    raise NNFTError(
        f"{where}: the kernel matrix is not positive definite even with jitter {JITTER_LADDER[-1]:g} x mean diagonal"
    )


_gram = eqx.filter_jit(lambda kernel, x: kernel.gram(x).as_matrix())


@jax.jit
def _factorable(k, shift):
    """Whether K + shift I has a Cholesky factor (jax's LAPACK potrf returns NaN when not)."""
    chol = jnp.linalg.cholesky(k + shift * jnp.eye(k.shape[0], dtype=k.dtype))
    return jnp.all(jnp.isfinite(jnp.diagonal(chol)))


@jax.jit
def _condition(model, x, y):
    """GPJax's exact posterior (Gram matrix, one Cholesky factor, representer weights and
    log marginal likelihood) and whether its factor is finite. A non-finite entry of K or a
    failed `potrf` (NaN factor) always reaches the diagonal of the factor. Plain `jax.jit`:
    every leaf of a GPJax model and posterior is an array, and `gpx.Dataset` cannot pass
    through equinox's filtered jit."""
    post = model.condition(gpx.Dataset(X=x, y=y[:, None]))
    ok = jnp.all(jnp.isfinite(jnp.diagonal(post.cholesky_factor))) & jnp.isfinite(post.log_marginal_likelihood)
    return post, ok


def _stable_condition(model: gpx.ConjugateModel, x: np.ndarray, y: np.ndarray, where: str):
    """`model` (with the jitter the ladder needs) and its GPJax posterior: one factorisation
    when the model's own jitter suffices, the jitter ladder only when it fails."""
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    post, ok = _condition(model, xj, yj)
    if bool(ok):
        return model, post
    model = _with_jitter(model, _ladder(model, x, where, skip_base=True))
    post, ok = _condition(model, xj, yj)
    if not bool(ok):
        raise NNFTError(f"{where}: the GP posterior is not finite even with jitter {model.prior.jitter:.3g}")
    return model, post


@jax.jit
def _predict(post, xt):
    """Posterior mean and diagonal predictive variance at xt from the cached factor L: one
    cross-covariance and one triangular solve V = L^-1 k(x, xt), exactly GPJax's
    `post(xt, covariance="diagonal")` (diag k(xt) - sum V^2 + jitter), but solving with
    L^T: LAPACK's `trsm` takes column-major operands, and the column-major view of the
    row-major L is L^T, so XLA need not transpose-copy the n x n factor (~20 ms at n = 2000)."""
    kernel = post.prior.kernel
    kx = kernel.cross_covariance(post.train_data.X, xt)
    v = jsp.linalg.solve_triangular(post.cholesky_factor.T, kx, lower=False, trans="T")
    mean = post.prior.mean_function(xt)[:, 0] + kx.T @ post.representer_weights[:, 0]
    var = lx.diagonal(kernel.diagonal(xt)) - jnp.sum(v * v, axis=0) + post.prior.jitter
    return mean, var


@jax.jit
def _predict_mean(post, xt):
    """Posterior mean only: k(xt, x) alpha with GPJax's cached representer weights alpha."""
    kx = post.prior.kernel.cross_covariance(xt, post.train_data.X)
    return post.prior.mean_function(xt)[:, 0] + kx @ post.representer_weights[:, 0]


def _with_jitter(model: gpx.ConjugateModel, jitter: float) -> gpx.ConjugateModel:
    if jitter == model.prior.jitter:
        return model
    prior = gpx.gps.Prior(kernel=model.prior.kernel, mean_function=model.prior.mean_function, jitter=float(jitter))
    return prior * model.likelihood


@jax.custom_vjp
def _gaussian_lml(s, r):
    """log N(r; 0, S) from the Cholesky factor of S (GPJax's evidence formula)."""
    return _gaussian_lml_fwd(s, r)[0]


def _gaussian_lml_fwd(s, r):
    chol = jnp.linalg.cholesky(s)
    alpha = jsp.linalg.cho_solve((chol, True), r)
    half_logdet = jnp.sum(jnp.log(jnp.diagonal(chol)))
    return -0.5 * (jnp.sum(r * alpha) + r.shape[0] * jnp.log(2.0 * jnp.pi)) - half_logdet, (chol, alpha)


def _gaussian_lml_bwd(res, g):
    """d log N / dS = (alpha alpha^T - S^-1) / 2 and d / dr = -alpha (R&W eq. 5.9): one
    cho_solve of the identity (2 n^3 flops in LAPACK trsm) instead of reverse-mode through
    the Cholesky factorisation (two n x n triangular solves and an n x n matmul)."""
    chol, alpha = res
    sinv = jsp.linalg.cho_solve((chol, True), jnp.eye(chol.shape[0], dtype=chol.dtype))
    return 0.5 * g * (jnp.outer(alpha, alpha) - sinv), -g * alpha


_gaussian_lml.defvjp(_gaussian_lml_fwd, _gaussian_lml_bwd)


def neg_mll(model: gpx.ConjugateModel, data: gpx.Dataset):
    """`-gpx.objectives.conjugate_mll(model, data)` (the same arithmetic: S = K + noise^2 I +
    jitter I, its Cholesky factor, alpha = S^-1 (y - m)) with its gradient in closed form;
    the objective `fit_gp` hands to `gpx.fit_scipy` / `gpx.fit`."""
    prior, lik = model.prior, model.likelihood
    y, mx = lik.prepare_targets(data.y, prior.mean_function(data.X))
    s = prior.kernel.gram(data.X).as_matrix() + jnp.diag(lik.noise_vector(data.n))
    return -_gaussian_lml(add_jitter(s, prior.jitter), (y - mx).reshape(-1))


@dataclasses.dataclass(kw_only=True)
class FittedTargets:
    """What an exact and a sparse NNGP fit share: the training data and fit record (keyword
    fields: inputs `x`, targets `y`, optimiser `history`, `notes`, the target transform `y_mean`,
    `y_scale`), the target transform and the fitted model's kernel, architecture, noise and
    jitter (subclasses provide `model`, their one positional field or a property)."""

    x: np.ndarray
    y: np.ndarray
    history: np.ndarray
    notes: list[str] = dataclasses.field(default_factory=list)
    _post: object = dataclasses.field(default=None, repr=False, compare=False)
    y_mean: float = 0.0
    y_scale: float = 1.0

    @property
    def z(self) -> np.ndarray:
        """The standardised targets the GP models: (y - y_mean) / y_scale."""
        return (self.y - self.y_mean) / self.y_scale

    @property
    def kernel(self) -> NNGPKernel:
        return self.model.prior.kernel

    @property
    def arch(self) -> Architecture:
        """The architecture with the fitted prior scales."""
        return arch_from_kernel(self.kernel)

    @property
    def noise(self) -> float:
        """The noise standard deviation in the units of y."""
        return self.y_scale * noise_std(self.model)

    @property
    def jitter(self) -> float:
        return float(self.model.prior.jitter)


@dataclasses.dataclass
class GPFit(FittedTargets):
    """A fitted NNGP regression: the GPJax model, its training data and the fit record.

    The model is a GP for the standardised targets z = (y - y_mean) / y_scale (the kernel's
    scales and `model`'s noise are in those units); `noise`, `predict`, `loo` and
    `log_marginal_likelihood` are in the original units of y (y_mean = 0, y_scale = 1 when
    `fit_gp(standardize=False)`). The GPJax posterior (Cholesky factor, representer weights, log marginal likelihood)
    is computed once, when fitting, and reused by `predict`, `loo` and
    `log_marginal_likelihood`."""

    model: gpx.ConjugateModel

    @property
    def dataset(self) -> gpx.Dataset:
        """The standardised training data the GPJax model is conditioned on."""
        return gpx.Dataset(X=jnp.asarray(self.x), y=jnp.asarray(self.z)[:, None])

    def posterior(self):
        """GPJax's exact posterior for z (cached Cholesky factor), computed once per fit."""
        if self._post is None:
            self._post, _ = _condition(self.model, jnp.asarray(self.x), jnp.asarray(self.z))
        return self._post

    @property
    def log_marginal_likelihood(self) -> float:
        """log p(y) in the units of y: log p(z) - n log(y_scale)."""
        return float(self.posterior().log_marginal_likelihood) - self.y.shape[0] * math.log(self.y_scale)

    def predict(self, xt: Float[Array, "m d"], variance: bool = True) -> dict[str, np.ndarray]:
        """Posterior mean and marginal variances of the latent f and of a new y at `xt`
        (`variance=False`: the mean only, skipping the triangular solve)."""
        xt = jnp.asarray(V.points("xt", xt, self.x.shape[1]))
        m, s = self.y_mean, self.y_scale
        if not variance:
            return {"mean": m + s * np.asarray(_predict_mean(self.posterior(), xt))}
        mean, var = _predict(self.posterior(), xt)
        var_f = s**2 * np.maximum(np.asarray(var) - self.jitter, 0.0)
        return {"mean": m + s * np.asarray(mean), "var_f": var_f, "var_y": var_f + self.noise**2}

    def loo(self) -> Float[Array, " n"]:
        """Exact leave-one-out log predictive densities log p(y_i | y_-i) from Sigma^-1
        (Rasmussen & Williams eq. 5.12), from the cached factor."""
        post = self.posterior()
        return np.asarray(_loo_from_factor(post.cholesky_factor, jnp.asarray(self.z))) - math.log(self.y_scale)

    def elpd_loo(self) -> dict:
        """Exact LOO ELPD: the sum of `loo()` with its standard error sqrt(n var)."""
        lp = self.loo()
        return {"elpd": float(lp.sum()), "se": float(math.sqrt(lp.size * lp.var())), "pointwise": lp}

    def summary(self) -> dict:
        return {
            **{k: round(v, 6) for k, v in self.kernel.values().items()},
            "noise": round(self.noise, 6),
            "log_marginal_likelihood": round(self.log_marginal_likelihood, 6),
            "y_mean": self.y_mean,
            "y_scale": self.y_scale,
        }


def loo_from_inverse(sinv: Float[Array, "n n"], y: Float[Array, " n"]) -> Float[Array, " n"]:
    """Exact Gaussian leave-one-out log densities log p(y_i | y_-i) from the inverse covariance
    S^-1 of y (Rasmussen & Williams eq. 5.12): y_i | y_-i ~ N(y_i - [S^-1 y]_i / [S^-1]_ii, 1 / [S^-1]_ii)."""
    prec = jnp.diagonal(sinv)
    return jax.scipy.stats.norm.logpdf(y, y - (sinv @ y) / prec, jnp.sqrt(1.0 / prec))


@jax.jit
def _loo_from_factor(chol, y):
    # (L^T, upper) rather than (L, lower): the same solve without transpose-copying L (see `_predict`)
    return loo_from_inverse(jsp.linalg.cho_solve((chol.T, False), jnp.eye(chol.shape[0], dtype=chol.dtype)), y)


@eqx.filter_jit
def exact_loo(model: gpx.ConjugateModel, x, y) -> Float[Array, " n"]:
    """log N(y_i; y_i - alpha_i / [S^-1]_ii, 1 / [S^-1]_ii), S = K + (noise^2 + jitter) I, alpha = S^-1 y."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    k = model.prior.kernel.gram(x).as_matrix()
    s = k + (gpx.parameters.val(model.likelihood.obs_stddev) ** 2 + model.prior.jitter) * jnp.eye(x.shape[0])
    return _loo_from_factor(jnp.linalg.cholesky(s), y)


def __getattr__(name: str):
    """`fit_gp` lives in `_optimise` (which imports this module); kept importable from here."""
    if name == "fit_gp":
        from ._optimise import fit_gp

        return fit_gp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
