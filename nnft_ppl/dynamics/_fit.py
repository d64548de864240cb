# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""`train_ensemble`: train M networks at once and return the run as a DataTree (`_record`)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import xarray as xr

from .. import _validate as V
from .._conventions import arch_attrs
from .._errors import NNFTError
from .._x64 import float64
from ..architectures import Architecture
from ._lazy import lazy_prediction
from ._ntk import has_analytic_ntk
from ._param import Parametrized
from ._record import build_tree
from ._train import check_data, ensemble_trainer, run


def as_model(arch, parametrization: str | None):
    """`arch` wrapped in `parametrization` (an Architecture alone trains in the standard one)."""
    if isinstance(arch, Parametrized):
        if parametrization is not None and parametrization != arch.parametrization:
            raise NNFTError(
                f"parametrization: {parametrization!r} given for a model already in {arch.parametrization!r}"
            )
        return arch
    if not isinstance(arch, Architecture):
        raise NNFTError(f"arch: expected an Architecture or Parametrized, got {type(arch).__name__}")
    return arch if parametrization in (None, "standard") else Parametrized(arch, parametrization)


def schedule(time: float, learning_rate: float, n_records: int) -> tuple[int, np.ndarray]:
    """Steps between records and the record times (learning rate x steps) for a run of `time`."""
    t = V.positive("time", time)
    if not math.isfinite(t):
        raise NNFTError(f"time: must be finite, got {time}")
    lr = V.positive("learning_rate", learning_rate)
    n_records = V.integer("n_records", n_records)
    every = max(1, round(t / lr / n_records))
    return every, lr * every * np.arange(n_records + 1)


@float64
def train_ensemble(
    arch,
    x_train,
    y_train,
    x=None,
    *,
    parametrization: str | None = "ntk",
    n_networks: int = 64,
    optimizer: str = "sgd",
    learning_rate: float = 0.1,
    time: float = 10.0,
    n_records: int = 10,
    key=0,
    record_ntk: bool = True,
    n_blocks: int = 16,
    dtype=jnp.float64,
) -> xr.DataTree:
    """Train `n_networks` networks of `arch` (in `parametrization`: "standard", "ntk", "mup") at once
    with `optimizer` ("sgd", "momentum", "adam") on (x_train, y_train), loss (1/2) sum of squared
    residuals, up to training `time` (= learning rate x steps), and record at `n_records` + 1 times
    the field at `x` (default: x_train), G_t^(2), G_t^(4)c with SEs, the empirical NTK at x and its
    drift; with the NTK parametrisation, gradient descent and an analytic NTK, also the lazy-regime
    theory. Divergence raises `NNFTNumericalError` naming the learning rate."""
    model = as_model(arch, parametrization)
    xt, y = check_data(model, x_train, y_train)
    x = xt if x is None else np.asarray(model.points(x, "x"))
    every, times = schedule(time, learning_rate, n_records)
    n_networks = V.integer("n_networks", n_networks, minimum=8)  # G4c's k-statistics on jackknife replicas
    trainer = ensemble_trainer(model, xt, y, optimizer, learning_rate, dtype)
    state = trainer.init(key, n_networks)
    _, rec = run(trainer, state, x, n_records, every, record_ntk)
    base = model.arch if isinstance(model, Parametrized) else model
    par = model.parametrization if isinstance(model, Parametrized) else "standard"
    theory = None
    if par == "ntk" and optimizer == "sgd" and has_analytic_ntk(base):
        theory = lazy_prediction(base, xt, y, x, times, learning_rate=learning_rate)
    attrs = {
        **arch_attrs(base),
        "parametrization": par,
        "optimizer": optimizer,
        "learning_rate": float(learning_rate),
        "lr_scale": model.lr_scale if isinstance(model, Parametrized) else 1.0,
        "n_networks": n_networks,
        "steps": every * n_records,
        "loss": "0.5 * sum of squared residuals",
        "time_unit": "learning_rate x steps",
        "kind": "trained",
    }
    return build_tree(times, x, xt, y, rec, attrs, min(n_blocks, n_networks // 2), theory)
