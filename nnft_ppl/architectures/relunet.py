"""ReLUNet: single layer with sigma = ReLU; the NNGP kernel is the order-1 arc-cosine kernel."""

from __future__ import annotations

from ._activations import ACTIVATIONS
from ._single_layer_base import AbstractSingleLayer


class ReLUNet(AbstractSingleLayer):
    """phi = b1 + W1 . relu(W0 x + b0); kernel sb^2 + sw^2 * arc-cosine(1)."""

    width: int = 100
    d: int = 1
    sw: float = 1.0
    sb: float = 1.0

    @property
    def act(self):
        return ACTIVATIONS["relu"]
