"""A small, pure optax training loop for M networks at once: full-batch MSE regression.

`init` / `step` follow optax and blackjax: a NamedTuple state, pure functions, no hidden
state; `fit` runs `steps` of them for an ensemble of parameter pytrees (leading axis M) in
one compiled `lax.scan` over a `vmap`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from .._errors import NNFTError


class TrainState(NamedTuple):
    """One network's parameters, its optimiser state and the number of steps taken."""

    params: object
    opt_state: object
    step: Array


def mse_loss(apply: Callable) -> Callable:
    """(params, x, y) -> mean squared error of `apply(params, x)` against y."""

    def loss(params, x, y):
        return jnp.mean((apply(params, x) - y) ** 2)

    return loss


def init(params, optimizer: optax.GradientTransformation) -> TrainState:
    """The state before the first step."""
    return TrainState(params, optimizer.init(params), jnp.zeros((), jnp.int32))


def step(state: TrainState, optimizer: optax.GradientTransformation, loss: Callable, x, y) -> tuple[TrainState, Array]:
    """One full-batch gradient step; returns the new state and the loss before the step."""
    value, grads = jax.value_and_grad(loss)(state.params, x, y)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    return TrainState(optax.apply_updates(state.params, updates), opt_state, state.step + 1), value


def make_optimizer(name: str, learning_rate: float) -> optax.GradientTransformation:
    """An optax optimiser by name: "adam", "sgd" or "momentum"."""
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise NNFTError(f"learning_rate: must be a positive number, got {learning_rate!r}")
    table = {"adam": optax.adam, "sgd": optax.sgd, "momentum": lambda lr: optax.sgd(lr, momentum=0.9)}
    if name not in table:
        raise NNFTError(f"optimizer: unknown optimiser {name!r}; known: {sorted(table)}")
    return table[name](learning_rate)


def fit(
    apply: Callable,
    params,
    x: Float[Array, "P d"],
    y: Float[Array, " P"],
    optimizer: optax.GradientTransformation,
    steps: int,
    metric: Callable | None = None,
    n_checks: int = 1,
):
    """Train the ensemble `params` (every leaf with a leading axis M) for `steps` full-batch steps
    on (x, y) with MSE loss: one compiled `lax.scan` over a `vmap`. Returns the trained parameters
    and each network's loss history (M, steps); with `metric` (params -> scalar, one network),
    also its value at `n_checks` evenly spaced checkpoints, the last at the end: (M, n_checks).
    A non-finite loss is a clear error (a divergent learning rate), never NaN results."""
    if not (isinstance(steps, int) and steps > 0):
        raise NNFTError(f"steps: must be a positive integer, got {steps!r}")
    if not (isinstance(n_checks, int) and n_checks >= 1 and steps % n_checks == 0):
        raise NNFTError(f"n_checks: must be a positive integer dividing steps={steps}, got {n_checks!r}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise NNFTError(f"y: expected shape ({x.shape[0]},) matching x of shape (P, d), got x {x.shape}, y {y.shape}")
    loss = mse_loss(apply)
    measure = metric if metric is not None else (lambda p: jnp.zeros(()))

    @jax.jit
    def run(params):
        states = jax.vmap(lambda p: init(p, optimizer))(params)

        def inner(s, _):
            return jax.vmap(lambda st: step(st, optimizer, loss, x, y))(s)

        def outer(s, _):
            s, hist = jax.lax.scan(inner, s, None, length=steps // n_checks)
            return s, (hist, jax.vmap(measure)(s.params))

        states, (history, checks) = jax.lax.scan(outer, states, None, length=n_checks)
        return states.params, jnp.moveaxis(history.reshape(steps, -1), 0, 1), checks.T

    out, history, checks = run(params)
    if not bool(jnp.all(jnp.isfinite(history))):
        raise NNFTError("learning_rate: the training diverged (non-finite loss); lower the learning rate")
    return (out, history) if metric is None else (out, history, checks)
