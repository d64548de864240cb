"""Issue 14 item 4(c): G_t^(4)c at finite width evolves away from its initial value and departs from
the lazy (linearised, frozen-NTK) evolution of the same networks in the feature-learning regime (muP).
The NTK-parametrisation side (the departure shrinking with width) is measured by the recipe
(`inference/training_dynamics.toml`, feature_learning.nc), too slow for the suite."""

from __future__ import annotations

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl._errors import NNFTError
from nnft_ppl.dynamics import Parametrized, g4c_departure, train_ensemble

X_TRAIN = np.linspace(-1.0, 1.0, 4)
Y_TRAIN = np.sin(2 * X_TRAIN)
X = np.r_[X_TRAIN, -2.0, 2.0]  # the training points first, then two points away from the data
EVAL = [4, 5]


def test_linearized_evolution_is_exact_for_a_model_linear_in_its_parameters():
    """LinearFeatures (uniform weights: non-Gaussian, G4c != 0) is linear in theta, so gradient descent
    on it IS its linearisation: the lazy fields equal the trained ones to float64 rounding, and the
    departure vanishes; a guard against a wrong NTK weighting or step count in the lazy evolution."""
    arch = nn.LinearFeatures(width=6, weights="uniform")
    tree = train_ensemble(
        arch, X_TRAIN, Y_TRAIN, X, parametrization="standard", n_networks=16, learning_rate=0.1, time=2.0, n_records=2
    )
    ds = g4c_departure(tree, EVAL, arch, n_blocks=8)
    assert np.max(np.abs(ds.G4c_t.values)) > 1e-4  # a non-trivial four-point function ...
    np.testing.assert_allclose(ds.G4c_lin.values, ds.G4c_t.values, rtol=0, atol=1e-12)  # ... evolved exactly
    assert float(tree["ensemble"].loss[-1].mean()) < 0.5 * float(tree["ensemble"].loss[0].mean())  # it trained
    bad = tree.copy()
    bad.attrs["optimizer"] = "adam"  # the lazy evolution is gradient descent's
    with pytest.raises(NNFTError, match="tree"):
        g4c_departure(bad, EVAL)


def test_g4c_departs_from_the_lazy_evolution_under_mup():
    """muP, width 16, 8192 ErfNets trained by gradient descent to t = 4: at x = +-2 (away from the data,
    where the spread survives) G4c_t (i) differs from the EXACT initial G4c_0 (muP: the zoo's exact
    cumulant / N^2, itself checked against the Monte Carlo G4c_0) and (ii) departs from the lazy
    evolution of the same networks beyond 4 SE Bonferroni over the 5 distinct tuples (paired jackknife,
    64 blocks, Student t). Pareto k-hat of every order-4 estimate < 0.5 (the SEs are trustworthy)."""
    arch = nn.ErfNet(width=16)
    tree = train_ensemble(
        arch, X_TRAIN, Y_TRAIN, X, parametrization="mup", n_networks=8192, learning_rate=0.05, time=4.0, n_records=1
    )
    ds = g4c_departure(tree, EVAL, Parametrized(arch, "mup"), n_blocks=64)
    a = ds.attrs
    assert max(a["khat_4_t"], a["khat_4_lin"], a["khat_4_0"]) < 0.5, a
    assert a["max_abs_z_initial_vs_exact"] < a["threshold"], a  # exact G4c_0 = Monte Carlo G4c_0
    assert a["max_abs_z_change"] > a["threshold"], a  # G4c_t moved away from G4c_0 ...
    assert a["max_abs_z_departure"] > a["threshold"], a  # ... and not the way the frozen NTK moves it
