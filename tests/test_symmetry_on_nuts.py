"""The symmetry diagnostics run on the DataTree of a NUTS-sampled deformed ensemble
(errors from the ESS): phi^3 + phi^4 breaks Z2 and is flagged, phi^4 alone keeps it."""

from __future__ import annotations

import jax
import numpy as np

import nnft_ppl as nn
from nnft_ppl.deform import Phi3, Phi4, deform, make_quadrature, sample_scan
from nnft_ppl.deform._diagnostics import to_datatree
from nnft_ppl.symmetry import z2_test


def test_z2_on_nuts_datatrees():
    x = np.linspace(-0.5, 0.5, 3)[:, None]
    model = deform(nn.CosNet(width=8), Phi3(0.0) + Phi4(1.0), make_quadrature((-1.0, 1.0), 8))
    runs = sample_scan(
        model,
        x,
        jax.random.PRNGKey(0),
        [Phi3(0.0) + Phi4(1.0), Phi3(2.0) + Phi4(1.0)],
        num_warmup=300,
        num_samples=500,
        num_chains=4,
        chain_method="vectorized",
    )
    kept, broken = (z2_test(to_datatree(r)) for r in runs)
    assert kept.kind == "mcmc" and broken.kind == "mcmc"
    assert kept.passed, kept.row()
    assert not broken.passed and broken.statistic > 5, broken.row()
