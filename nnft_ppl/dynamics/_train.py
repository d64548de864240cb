# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Training an ensemble of M networks at once: pure `init` / `step` on a NamedTuple state
(optax style), vmapped over the networks, and one jit-compiled `lax.scan` that records the
field (and the empirical NTK) at chosen times.

The loss of each network is L = (1/2) sum_i (phi(X_i) - Y_i)^2 (the sum, so that gradient flow
at time t = learning rate x steps is the lazy theory's t). A network whose loss turns non-finite
or exceeds `blowup` times its initial value (plus one) stops the run: the parameters freeze at
the last finite step and the host raises `NNFTNumericalError` naming the learning rate.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from .. import _validate as V
from .._errors import NNFTError, NNFTNumericalError
from .._keys import as_dtype, as_key
from ._ntk import ntk_fn
from ._param import Parametrized, Theta

#: optimisers by name: learning rate -> optax GradientTransformation
OPTIMIZERS: dict[str, Callable[[float], optax.GradientTransformation]] = {
    "sgd": optax.sgd,
    "momentum": lambda lr: optax.sgd(lr, momentum=0.9),
    "adam": optax.adam,
}


class TrainState(NamedTuple):
    """Every network's parameters (leading axis M), optimiser state, current and initial loss,
    the step count, and the step at which a network diverged (-1: none)."""

    params: Theta
    opt_state: Any
    loss: Float[Array, " M"]
    loss0: Float[Array, " M"]
    step: Array
    diverged_at: Array


class Trainer(NamedTuple):
    """Pure functions: `init(key, n_networks) -> TrainState`, `step(state) -> TrainState`, and one
    network's training `loss(params)`."""

    init: Callable[..., TrainState]
    step: Callable[[TrainState], TrainState]
    loss: Callable[[Theta], Array]
    learning_rate: float
    optimizer: str
    model: Any


def check_data(model, x_train, y_train) -> tuple[np.ndarray, np.ndarray]:
    """Training points (n, d) and targets (n,), or `NNFTError` naming the argument."""
    xt = np.asarray(model.points(x_train, "x_train"))
    y = np.asarray(y_train)
    if y.ndim != 1 or y.shape[0] != xt.shape[0]:
        raise NNFTError(
            f"y_train: shape {y.shape} does not match x_train's {xt.shape[0]} points (want ({xt.shape[0]},))"
        )
    if not np.all(np.isfinite(y)):
        raise NNFTError("y_train: must be finite")
    return xt, y


def make_optimizer(optimizer: str, learning_rate: float) -> optax.GradientTransformation:
    if optimizer not in OPTIMIZERS:
        raise NNFTError(f"optimizer: unknown {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    lr = V.positive("learning_rate", learning_rate)
    if not math.isfinite(lr):
        raise NNFTError(f"learning_rate: must be finite, got {learning_rate}")
    return OPTIMIZERS[optimizer](lr)


def ensemble_trainer(
    model, x_train, y_train, optimizer: str = "sgd", learning_rate: float = 0.1, dtype=jnp.float64, blowup=1e6
) -> Trainer:
    """Pure `init` and `step` for an ensemble of `model` (an Architecture or a `Parametrized`; its
    `lr_scales` multiply each site's learning rate) trained on (x_train, y_train) with the MSE loss."""
    dtype = as_dtype(dtype)
    xt, y = check_data(model, x_train, y_train)
    tx = make_optimizer(optimizer, learning_rate)
    if isinstance(model, Parametrized) and model.lr_scale != 1.0:  # per-site learning rates (muP)
        shapes = jax.eval_shape(lambda k: model.sample_theta(k, dtype), jax.random.key(0))
        scales = model.lr_scales(shapes)
        tx = optax.chain(tx, optax.stateless(lambda u, p=None: {k: v * scales[k] for k, v in u.items()}))
    xt, y = jnp.asarray(xt, dtype), jnp.asarray(y, dtype)

    def loss_fn(p):
        r = model.apply(p, xt) - y
        return 0.5 * jnp.sum(r * r)

    @jax.jit  # one compile: drawn op by op, the vmapped NumPyro prior compiled ~200 small programs
    def draw(keys):
        params = jax.vmap(lambda k: model.sample_theta(k, dtype))(keys)
        return params, jax.vmap(tx.init)(params), jax.vmap(loss_fn)(params)

    def init(key, n_networks: int) -> TrainState:
        params, opt_state, loss = draw(jax.random.split(as_key(key), n_networks))
        zero = jnp.zeros((), jnp.int32)
        return TrainState(params, opt_state, loss, loss, zero, zero - 1)

    def step(state: TrainState) -> TrainState:
        loss, grads = jax.vmap(jax.value_and_grad(loss_fn))(state.params)
        updates, opt_state = jax.vmap(tx.update)(grads, state.opt_state, state.params)
        new = optax.apply_updates(state.params, updates)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(new)]))
        bad = ~finite | jnp.any(~jnp.isfinite(loss)) | jnp.any(loss > blowup * (state.loss0 + 1.0))
        stop = (state.diverged_at >= 0) | bad
        # one scalar branch, not an elementwise select over every parameter and optimiser state
        params, opt_state, loss = jax.lax.cond(
            stop, lambda: (state.params, state.opt_state, state.loss), lambda: (new, opt_state, loss)
        )
        return TrainState(
            params,
            opt_state,
            loss,
            state.loss0,
            state.step + 1,
            jnp.where((state.diverged_at < 0) & bad, state.step, state.diverged_at),
        )

    return Trainer(init, step, loss_fn, float(learning_rate), optimizer, model)


class Record(NamedTuple):
    """What a run keeps at each record time: the field at the points x (T, M, P), the training
    loss (T, M) and, if asked, the empirical NTK at x (T, M, P, P)."""

    phi: Array
    loss: Array
    ntk: Array | None


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(trainer: Trainer, n_records: int, every: int, record_ntk: bool):
    """The jit-compiled scan for this trainer and schedule (cached while the trainer lives)."""
    cache = _COMPILED.setdefault(trainer.step, {})
    key = (n_records, every, record_ntk)
    if key in cache:
        return cache[key]
    model = trainer.model
    ntk = ntk_fn(model)

    def observe(s: TrainState, x):
        phi = jax.vmap(lambda p: model.apply(p, x))(s.params)
        k = jax.vmap(lambda p: ntk(p, x, x))(s.params) if record_ntk else None
        return Record(phi, jax.vmap(trainer.loss)(s.params), k)

    @jax.jit
    def go(s, x):
        # one flat loop over all steps, writing a record every `every` steps into preallocated buffers:
        # a step loop nested in a record loop ran ~30% slower on CPU (XLA nested while loops)
        first = observe(s, x)
        buf = jax.tree.map(lambda a: jnp.zeros((n_records + 1, *a.shape), a.dtype).at[0].set(a), first)

        def body(i, c):
            st, b = trainer.step(c[0]), c[1]
            put = lambda b: jax.tree.map(lambda r, o: r.at[(i + 1) // every].set(o), b, observe(st, x))  # noqa: E731
            return st, jax.lax.cond((i + 1) % every == 0, put, lambda b: b, b)

        return jax.lax.fori_loop(0, n_records * every, body, (s, buf))

    cache[key] = go
    return go


def run(trainer: Trainer, state: TrainState, x, n_records: int, every: int, record_ntk: bool = True):
    """`n_records` x `every` steps in one compiled scan, recording before the first step and after
    every `every` steps (n_records + 1 records). Returns (final state, `Record`); raises
    `NNFTNumericalError` naming the learning rate if a network diverged."""
    x = jnp.asarray(trainer.model.points(x), jax.tree.leaves(state.params)[0].dtype)
    state, rec = _compiled(trainer, int(n_records), int(every), bool(record_ntk))(state, x)
    at = int(state.diverged_at)
    if at >= 0:
        raise NNFTNumericalError(
            f"learning_rate: training diverged at step {at} with learning_rate={trainer.learning_rate} "
            f"({trainer.optimizer}): a loss became non-finite or exploded; try a smaller learning_rate "
            "(gradient descent needs learning_rate < 2 / largest eigenvalue of the NTK on the training points)"
        )
    return state, rec
