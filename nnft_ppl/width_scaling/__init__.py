"""The width-scaling experiment of arXiv:2008.08601 as a library: run it (`width_scaling`),
judge it (`fit_slopes`: slopes, amplitude checks against the exact theory, k-hat flags and
verdicts; `neuron_checks` for the neuron-level band) and plot it (`plot_scaling`, `plot_g2`)."""

from ._plots import plot_g2, plot_scaling
from ._scaling import EXPECTED_SLOPES, width_scaling
from ._verdicts import fit_slopes, neuron_checks, verdict

__all__ = ["EXPECTED_SLOPES", "fit_slopes", "neuron_checks", "plot_g2", "plot_scaling", "verdict", "width_scaling"]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
