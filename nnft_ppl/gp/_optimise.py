"""`fit_gp`: the NNGP regression's prior scales and noise by the marginal likelihood, on
standardised targets, exact or (above an n set by memory) sparse variational, with warnings
for fits that should not be trusted silently."""

from __future__ import annotations

import dataclasses
import math
import os
import warnings

import equinox as eqx
import gpjax as gpx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax

from .. import _validate as V
from .._errors import NNFTError
from ..architectures import Architecture
from ._data import check_xy
from ._fit import GPFit, GPWarning, _condition, _stable_condition, build_model, neg_mll, noise_std
from ._sparse import SparseGPFit, fit_sparse, neg_elbo

#: float64 n x n matrices the exact fit holds at its peak (K, S, its factor, S^-1, the
#: gradient and the kernel's backward pass); the issue measured ~18 at n = 4,000
EXACT_MATRICES = 20
#: environment variable that caps the memory (bytes) the exact GP may plan for
MEMORY_ENV = "NNFT_GP_MEMORY_BYTES"
#: the exact GP may plan for at most this fraction of the available memory
MEMORY_FRACTION = 0.5
#: fitted scales (standardised units) below / above these are reported as at their bounds
SCALE_LOW, SCALE_HIGH = 1e-4, 1e4
#: a fit whose kernel explains less than this fraction of the variance is all noise
SIGNAL_MIN = 1e-3
#: `optimizer="auto"` uses L-BFGS from this n on, scipy's BFGS below: both reach the same optimum
#: (benchmarks/gp_optimizers.py: |log ML difference| <= 3.4e-9 nats over the suite's and recipes' fits),
#: but L-BFGS compiles its whole loop (seconds), which only pays off once the n^3 steps dominate
#: (n = 2,000: 6.1 s against 35 s)
LBFGS_MIN_N = 1000


def available_memory() -> int:
    """Bytes the exact GP may plan for: `$NNFT_GP_MEMORY_BYTES` when set, else the available
    physical memory (Linux `MemAvailable`, or `os.sysconf` pages)."""
    cap = os.environ.get(MEMORY_ENV)
    if cap is not None:
        try:
            return int(float(cap))
        except ValueError:
            raise NNFTError(f"${MEMORY_ENV} must be a number of bytes, got {cap!r}") from None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def exact_gp_bytes(n: int) -> int:
    """Planned peak memory of an exact fit on n points (float64)."""
    return EXACT_MATRICES * 8 * n * n


def max_exact_n(memory: int | None = None) -> int:
    """The largest n for which the exact GP fits in `MEMORY_FRACTION` of `memory` bytes."""
    memory = available_memory() if memory is None else memory
    return int(math.isqrt(int(MEMORY_FRACTION * memory) // (EXACT_MATRICES * 8)))


def _choose_method(method: str, n: int) -> str:
    if method not in ("auto", "exact", "sparse"):
        raise NNFTError(f"method: must be 'auto', 'exact' or 'sparse', got {method!r}")
    if method == "sparse":
        return method
    limit = max_exact_n()
    if n <= limit:
        return "exact"
    need = exact_gp_bytes(n) / 2**30
    if method == "exact":
        raise NNFTError(
            f"x: an exact GP on n = {n} points needs ~{need:.1f} GiB, over the {MEMORY_FRACTION:.0%} of "
            f"available memory it may use (n <= {limit}); use method='sparse' or set ${MEMORY_ENV}"
        )
    warnings.warn(
        f"fit_gp: n = {n} > {limit} (an exact GP would need ~{need:.1f} GiB); using the sparse variational GP",
        GPWarning,
        stacklevel=3,
    )
    return "sparse"


def _target_transform(y: np.ndarray, standardize: bool) -> tuple[float, float]:
    m, s = float(np.mean(y)), float(np.std(y))
    if not s > 1e-12 * abs(m) or s == 0.0:
        raise NNFTError(f"y: the targets are constant (all ~ {m:.6g}); a GP fit has nothing to regress")
    return (m, s) if standardize else (0.0, 1.0)


def _values(model) -> dict[str, float]:
    """Scales and noise of a GPJax model or of a variational family (and its inducing inputs)."""
    if isinstance(model, gpx.variational_families.AbstractVariationalFamily):
        z = np.asarray(gpx.parameters.val(model.inducing_inputs))
        return {**_values(model.model), "inducing": z.tobytes()}
    return {**model.prior.kernel.values(), "noise": noise_std(model)}


def _grad_finite(objective, model, data) -> bool:
    g = eqx.filter_grad(objective)(model, data)
    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(g))


def _step_checks(model0, fitted, objective, data, failed: bool) -> list[str]:
    """Messages when the optimiser failed or took no step, naming a non-finite gradient."""
    moved = _values(model0) != _values(fitted)
    if moved and not failed:
        return []
    grad_ok = _grad_finite(objective, model0, data)
    why = "" if grad_ok else "; the marginal-likelihood gradient is non-finite at the initial scales"
    if failed:
        return [f"marginal-likelihood fit produced non-finite values; kept the initial scales{why}"]
    return [f"the optimiser took no step from the initial scales{why}"]


def _degeneracy(model, x: np.ndarray, fit_noise: bool) -> list[str]:
    """Scales at their bounds, all-noise fits and interpolating (zero-noise) fits."""
    msgs = []
    for k, v in model.prior.kernel.values().items():
        if v < SCALE_LOW:
            msgs.append(f"{k} = {v:.3g} is at its lower bound 0 (the fit does not use it)")
        elif v > SCALE_HIGH:
            msgs.append(f"{k} = {v:.3g} is running off to infinity")
    noise = noise_std(model)
    signal = float(jnp.mean(lx.diagonal(model.prior.kernel.diagonal(jnp.asarray(x)))))
    frac = signal / (signal + noise**2)
    if not frac >= SIGNAL_MIN:
        msgs.append(f"all-noise fit: the kernel explains a fraction {frac:.2g} of the variance")
    if fit_noise and noise < SCALE_LOW:
        msgs.append(f"noise = {noise:.3g} is at its lower bound 0 (the fit interpolates the data)")
    return [f"degenerate optimum: {m}" for m in msgs]


@eqx.filter_jit
def _fit_lbfgs(model, data, num_iters: int):
    with warnings.catch_warnings():  # GPJax 1.0 calls optax's deprecated tree_l2_norm; not ours to fix
        warnings.filterwarnings("ignore", message=".*tree_l2_norm is deprecated", category=DeprecationWarning)
        return gpx.fit_lbfgs(model=model, objective=neg_mll, train_data=data, max_iters=num_iters, safe=False)


def _optimise(model, data, optimizer: str, num_iters: int, learning_rate: float):
    if optimizer == "scipy":
        return gpx.fit_scipy(model=model, objective=neg_mll, train_data=data, max_iters=num_iters, verbose=False)
    if optimizer == "lbfgs":
        fitted, final = _fit_lbfgs(model, data, num_iters)
        return fitted, jnp.atleast_1d(final)
    optim = optax.adam(V.positive("learning_rate", learning_rate))
    return gpx.fit(model=model, objective=neg_mll, train_data=data, optim=optim, num_iters=num_iters, verbose=False)


def _fit_exact(arch, xa, z, noise, fit_noise, trainable, optimizer, num_iters, learning_rate, jitter):
    model = build_model(arch, noise, fit_noise=fit_noise, trainable=trainable, jitter=jitter)
    model, post = _stable_condition(model, xa, z, "kernel (initial scales)")
    model0, history, notes = model, np.zeros(0), []
    if num_iters > 0:
        data = gpx.Dataset(X=jnp.asarray(xa), y=jnp.asarray(z)[:, None])
        fitted, hist = _optimise(model, data, optimizer, num_iters, learning_rate)
        history = np.asarray(hist)
        # the fitted scales' posterior with the same jitter: finite iff their marginal likelihood is
        fitted_post, ok = _condition(fitted, data.X, data.y[:, 0])
        failed = not (np.all(np.isfinite(history)) and bool(ok))
        if not failed:
            model, post = fitted, fitted_post
        notes += _step_checks(model0, fitted, neg_mll, data, failed)
    return GPFit(model, x=xa, y=z, history=history, notes=notes, _post=post)


def _fit_sparse_checked(arch, xa, z, noise_z, optimizer, num_inducing, *, fit_noise, trainable, num_iters, jitter):
    """The sparse variational fit of the standardised targets z, with the step checks in its notes."""
    if optimizer not in ("auto", "lbfgs"):
        raise NNFTError(f"optimizer: the sparse GP is fitted with 'lbfgs', got {optimizer!r}")
    fit, start, failed = fit_sparse(
        arch,
        xa,
        z,
        noise=noise_z,
        fit_noise=fit_noise,
        trainable=trainable,
        num_inducing=num_inducing,
        num_iters=num_iters,
        jitter=jitter,
    )
    if num_iters > 0:
        data = gpx.Dataset(X=jnp.asarray(xa), y=jnp.asarray(z)[:, None])
        fit.notes.extend(_step_checks(start, fit.family, neg_elbo, data, failed))
    return fit


def _warn_notes(caught, fit_notes: list[str]) -> list[str]:
    """Re-issue the warnings caught during a fit at the caller of `fit_gp` (GPWarnings once each, the
    fit's own notes first) and return every GPWarning message and note for the fit's `notes`."""
    notes = [str(w.message) for w in caught if issubclass(w.category, GPWarning)] + fit_notes
    for w in caught:
        if not issubclass(w.category, GPWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for msg in dict.fromkeys(fit_notes):
        warnings.warn(msg, GPWarning, stacklevel=3)
    for w in caught:
        if issubclass(w.category, GPWarning):
            warnings.warn(w.message, GPWarning, stacklevel=3)
    return notes


def fit_gp(
    arch: Architecture,
    x,
    y,
    *,
    noise: float | None = None,
    fit_noise: bool = True,
    trainable: tuple[str, ...] | None = None,
    optimizer: str = "auto",
    num_iters: int = 200,
    learning_rate: float = 0.05,
    jitter: float = 1e-10,
    standardize: bool = True,
    method: str = "auto",
    num_inducing: int = 256,
) -> GPFit | SparseGPFit:
    """Fit the prior scales (and the noise) of the NNGP regression by maximising the marginal
    likelihood of the standardised targets z = (y - mean y) / std y (`standardize=False`: of y
    itself); the transform is recorded in the fit and inverted for its predictions, noise,
    log marginal likelihood and LOO densities, which are in the units of y. The kernel's scales
    are those of the GP for z. `noise` is the starting (or, with `fit_noise=False`, fixed) noise
    standard deviation in the units of y (default 0.1 std y).

    `optimizer`: `"lbfgs"` (`gpx.fit_lbfgs`, optax L-BFGS with a zoom line search, the loop
    compiled once; `history` holds the final value), `"scipy"` (`gpx.fit_scipy`, BFGS), `"adam"`
    (`gpx.fit` with `optax.adam(learning_rate)`) or `"auto"` (default: lbfgs from n =
    `LBFGS_MIN_N` on and for the sparse GP, scipy below); `num_iters=0` fits nothing.

    `method`: `"exact"` (one n x n Cholesky factor per step; an `NNFTError` before allocating
    one that would not fit in memory, see `max_exact_n`), `"sparse"` (GPJax's collapsed
    variational GP with `num_inducing` inducing inputs: a `SparseGPFit`) or `"auto"` (exact
    when it fits, else sparse with a `GPWarning`).

    Constant y raises `NNFTError`. A `GPWarning` (also in `notes`) reports a jitter the kernel
    matrix needed, a failed fit (initial scales kept), an optimiser that took no step, a
    non-finite gradient, and degenerate optima (scales at their bounds, all-noise fits)."""
    xa, ya = check_xy(x, y)
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture, got {type(arch).__name__}")
    if xa.shape[1] != arch.d:
        raise NNFTError(f"x has input dimension {xa.shape[1]} but the architecture has d = {arch.d}")
    num_iters = V.integer("num_iters", num_iters, minimum=0)
    if optimizer not in ("auto", "scipy", "lbfgs", "adam"):
        raise NNFTError(f"optimizer: must be 'auto', 'scipy', 'lbfgs' or 'adam', got {optimizer!r}")
    ym, ys = _target_transform(ya, bool(standardize))
    z = (ya - ym) / ys
    noise_z = 0.1 if noise is None else V.positive("noise", V.positive("noise", noise) / ys)
    jitter = V.nonnegative("jitter", jitter)
    method = _choose_method(method, xa.shape[0])
    if not fit_noise and trainable is not None and not tuple(trainable):
        num_iters = 0  # nothing to fit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GPWarning)
        settings = dict(fit_noise=fit_noise, trainable=trainable, num_iters=num_iters, jitter=jitter)
        if method == "sparse":
            fit = _fit_sparse_checked(arch, xa, z, noise_z, optimizer, num_inducing, **settings)
        else:
            if optimizer == "auto":
                optimizer = "lbfgs" if xa.shape[0] >= LBFGS_MIN_N else "scipy"
            fit = _fit_exact(arch, xa, z, noise_z, fit_noise, trainable, optimizer, num_iters, learning_rate, jitter)
        if num_iters > 0:
            fit.notes.extend(_degeneracy(fit.model, xa, fit_noise))
    notes = _warn_notes(caught, fit.notes)
    return dataclasses.replace(fit, y=ya, notes=list(dict.fromkeys(notes)), y_mean=ym, y_scale=ys)
