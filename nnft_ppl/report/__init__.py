"""Deprecated alias of `nnft_ppl.width_scaling` (the package's former name), kept for one release."""

import warnings

from ..width_scaling import *  # noqa: F403
from ..width_scaling import __all__  # noqa: F401

warnings.warn(
    "nnft_ppl.report is deprecated: the width-scaling experiment is nnft_ppl.width_scaling",
    DeprecationWarning,
    stacklevel=2,
)
