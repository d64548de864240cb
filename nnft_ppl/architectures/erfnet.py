"""ErfNet: single layer with sigma = erf; the NNGP kernel is the arcsine kernel."""

from __future__ import annotations

from ._activations import ACTIVATIONS
from ._single_layer_base import AbstractSingleLayer


class ErfNet(AbstractSingleLayer):
    """phi = b1 + W1 . erf(W0 x + b0); kernel sb^2 + sw^2 (2/pi) arcsin(...)."""

    width: int = 100
    d: int = 1
    sw: float = 1.0
    sb: float = 1.0

    @property
    def act(self):
        return ACTIVATIONS["erf"]
