"""SingleLayer: any elementwise activation (by name or a jax function)."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx

from ._activations import Activation, get_activation
from ._single_layer_base import AbstractSingleLayer


class SingleLayer(AbstractSingleLayer):
    """phi = b1 + W1 . sigma(W0 x + b0) for any sigma; kernel by closed-form dual or quadrature."""

    activation: str | Callable = eqx.field(default="tanh", static=True)
    width: int = 100
    d: int = 1
    sw: float = 1.0
    sb: float = 1.0

    def __check_init__(self):
        get_activation(self.activation)

    @property
    def act(self) -> Activation:
        return get_activation(self.activation)
