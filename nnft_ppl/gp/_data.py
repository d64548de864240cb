# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Regression data sets for the GP and Bayesian-network comparisons: validation,
standardisation (with the transform recorded), a synthetic set with a known truth
and real sets shipped by installed packages (nothing is downloaded)."""

from __future__ import annotations

import dataclasses

import numpy as np
from jaxtyping import Array, Float

from .._errors import NNFTError

#: fewest data points a fit or a comparison accepts
MIN_POINTS = 5


@dataclasses.dataclass(frozen=True)
class RegressionData:
    """Standardised inputs `x` (n, d) and targets `y` (n,), with the affine transforms
    that map them back: raw = mean + scale * standardised."""

    x: np.ndarray
    y: np.ndarray
    name: str
    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float
    y_scale: float
    true_fn: object = None  # f(x_standardised) -> y_standardised, for synthetic sets

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def d(self) -> int:
        return self.x.shape[1]

    def attrs(self) -> dict:
        """The data set's name and transform, flat and netCDF-serialisable."""
        return {
            "dataset": self.name,
            "n_train": int(self.n),
            "x_mean": [float(v) for v in self.x_mean],
            "x_scale": [float(v) for v in self.x_scale],
            "y_mean": float(self.y_mean),
            "y_scale": float(self.y_scale),
            "transform": "standardised = (raw - mean) / scale",
        }

    def unstandardise_y(self, y):
        return self.y_mean + self.y_scale * np.asarray(y)


def check_xy(x, y, min_points: int = MIN_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Inputs as a finite float64 (n, d) array and targets as finite (n,); clear errors otherwise."""
    for name, v in (("x", x), ("y", y)):
        if np.iscomplexobj(v):
            raise NNFTError(f"{name} must be real; got complex values (the imaginary part would be dropped)")
    try:
        xa = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise NNFTError(f"x must be a numeric array of shape (n, d), got {type(x).__name__}") from None
    try:
        ya = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise NNFTError(f"y must be a numeric array of shape (n,), got {type(y).__name__}") from None
    if xa.ndim == 1:
        xa = xa[:, None]
    if xa.ndim != 2:
        raise NNFTError(f"x must have shape (n, d), got shape {xa.shape}")
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1:
        raise NNFTError(f"y must have shape (n,) or (n, 1), got shape {ya.shape}")
    if xa.shape[0] != ya.shape[0]:
        raise NNFTError(f"x and y must have the same number of points, got x {xa.shape} and y {ya.shape}")
    if xa.shape[0] < min_points:
        raise NNFTError(f"x: too few data points ({xa.shape[0]}); need at least {min_points}")
    if not np.all(np.isfinite(xa)):
        raise NNFTError("x must be finite; it contains NaN or inf")
    if not np.all(np.isfinite(ya)):
        raise NNFTError("y must be finite; it contains NaN or inf")
    return xa, ya


def standardise(x, y, name: str = "data", true_fn=None) -> RegressionData:
    """Zero-mean, unit-scale inputs and targets, keeping the transform."""
    xa, ya = check_xy(x, y)
    xm, xs = xa.mean(0), xa.std(0)
    ym, ys = float(ya.mean()), float(ya.std())
    if np.any(xs <= 0):
        raise NNFTError("x: every input column must vary (a constant column cannot be standardised)")
    if ys <= 0:
        raise NNFTError("y: targets are constant; nothing to regress")
    return RegressionData((xa - xm) / xs, (ya - ym) / ys, name, xm, xs, ym, ys, true_fn)


def synthetic(n: int = 40, noise: float = 0.1, seed: int = 0) -> RegressionData:
    """y = sin(3x) + x/2 + noise on x ~ U[-1.5, 1.5]; already on a unit scale, so the
    transform is the identity and `true_fn` is the noiseless truth."""
    if n < MIN_POINTS:
        raise NNFTError(f"n: too few data points ({n}); need at least {MIN_POINTS}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1.5, 1.5, n))[:, None]
    f = lambda z: np.sin(3.0 * np.asarray(z)[..., 0]) + 0.5 * np.asarray(z)[..., 0]
    y = f(x) + noise * rng.standard_normal(n)
    return RegressionData(x, y, f"synthetic(n={n}, noise={noise}, seed={seed})", np.zeros(1), np.ones(1), 0.0, 1.0, f)


def diabetes_bmi(n: int | None = None, seed: int = 0) -> RegressionData:
    """scikit-learn's diabetes data: disease progression against body-mass index,
    optionally a random subset of `n` of the 442 patients; standardised."""
    from sklearn.datasets import load_diabetes

    ds = load_diabetes()
    x = ds.data[:, list(ds.feature_names).index("bmi")]
    y = ds.target
    if n is not None:
        if n < MIN_POINTS:
            raise NNFTError(f"n: too few data points ({n}); need at least {MIN_POINTS}")
        idx = np.sort(np.random.default_rng(seed).choice(x.shape[0], size=min(n, x.shape[0]), replace=False))
        x, y = x[idx], y[idx]
    return standardise(x[:, None], y, name=f"sklearn diabetes: progression ~ bmi (n={x.shape[0]})")


DATASETS = {"synthetic": synthetic, "diabetes_bmi": diabetes_bmi}


def load_dataset(name: str, **kw) -> RegressionData:
    """A data set by name (`synthetic`, `diabetes_bmi`)."""
    if name not in DATASETS:
        raise NNFTError(f"dataset: unknown data set {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name](**kw)


def input_grid(data: RegressionData, n_grid: int = 50, pad: float = 0.25) -> Float[Array, "G 1"]:
    """A 1-d grid spanning the standardised inputs, widened by `pad` on each side."""
    if data.d != 1:
        raise NNFTError(f"data: a test grid needs 1-d inputs, got d = {data.d}")
    lo, hi = float(data.x.min()), float(data.x.max())
    w = hi - lo
    return np.linspace(lo - pad * w, hi + pad * w, n_grid)[:, None]
