"""Interacting NN field theories: the architecture's prior deformed by exp(-S_int[phi]),
S_int = integral_box d^dx V(phi(x)) (physics sign: lam > 0 in `Phi4(lam)` is stable),
sampled with NumPyro NUTS/HMC and checked against first-order Feynman diagrams.

Nothing here imports ArviZ at import time (the DataTree/diagnostics functions import it on use).
"""

from ._analysis import (
    chain_vacua,
    first_order_breakdown,
    first_order_phi2,
    free_phi2,
    lam2_fit,
    landscape,
    phi4_scan,
    reweighting_scan,
    theta_of,
)
from ._correlators import MCMCEstimate, connected2, connected4, mcmc_moments, mean_with_se, unique_entries
from ._diagnostics import Diagnostics, attach, diagnose, report, save, to_datatree
from ._lamfit import DeviationFit, fit_deviation
from ._model import Deformed, deform
from ._perturbation import base_connected4, first_order, first_order_dg2, first_order_g4c, first_order_phi2_exact
from ._potentials import (
    Custom,
    DoubleWell,
    Mass,
    Phi3,
    Phi4,
    Phi6,
    Potential,
    SumPotential,
    potential_from_spec,
)
from ._quadrature import RULES, Quadrature, make_quadrature
from ._reweight import Reweighted, reweight_prior
from ._sample import DeformedRun, NUTSConfig, choose_chain_method, nuts_config, sample_deformed, sample_scan
from ._schwinger_dyson import Phi2Response, phi2_response, phi2_responses

__all__ = [
    "DeviationFit",
    "Phi2Response",
    "fit_deviation",
    "first_order_phi2",
    "first_order_phi2_exact",
    "free_phi2",
    "lam2_fit",
    "phi2_response",
    "phi2_responses",
    "reweighting_scan",
    "phi4_scan",
    "landscape",
    "chain_vacua",
    "first_order_breakdown",
    "theta_of",
    "RULES",
    "Custom",
    "Deformed",
    "DeformedRun",
    "NUTSConfig",
    "Diagnostics",
    "DoubleWell",
    "MCMCEstimate",
    "Mass",
    "Phi3",
    "Phi4",
    "Phi6",
    "Potential",
    "Quadrature",
    "Reweighted",
    "SumPotential",
    "attach",
    "base_connected4",
    "choose_chain_method",
    "nuts_config",
    "connected2",
    "connected4",
    "deform",
    "diagnose",
    "first_order",
    "first_order_dg2",
    "first_order_g4c",
    "make_quadrature",
    "mean_with_se",
    "mcmc_moments",
    "potential_from_spec",
    "report",
    "reweight_prior",
    "sample_deformed",
    "sample_scan",
    "save",
    "to_datatree",
    "unique_entries",
]

#: former names, kept one release: (new name, the object)
_DEPRECATED = {"Estimate": "MCMCEstimate", "moments": "mcmc_moments"}


def __getattr__(name: str):
    if name in _DEPRECATED:
        import warnings

        new = _DEPRECATED[name]
        warnings.warn(
            f"nnft_ppl.deform.{name} is deprecated (it clashed with nnft_ppl.ensemble's); use {new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[new]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
