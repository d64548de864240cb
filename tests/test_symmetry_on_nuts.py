"""The symmetry diagnostics run on the DataTree of a NUTS-sampled deformed ensemble
(errors from the ESS): phi^3 + phi^4 breaks Z2 and is flagged, phi^4 alone keeps it; the broken run's
odd correlators are non-zero with the tadpole's sign (once tests/test_deform_sampling.py's own phi^3 run)."""

from __future__ import annotations

import jax
import numpy as np

import nnft_ppl as nn
from nnft_ppl import deform as D
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
    _check_phi3_breaks_z2(model, x, runs[1])


def _check_phi3_breaks_z2(model, x, run):
    """The broken run's odd correlators, estimator by estimator: <phi> and <phi^3> at every point are
    > 5 SE from zero, and <phi> has the sign of the tadpole diagram (kappa > 0 pushes it negative)."""
    tadpole = D.first_order(model.arch, Phi3(2.0), model.quad, x, 1)
    for p in range(x.shape[0]):
        phi = run.samples["phi"][..., p]
        for power in (1, 3):
            est = D.mean_with_se(phi**power)
            assert abs(est.value) > 5.0 * est.se, (p, power, est)
        assert D.mean_with_se(phi).value < 0 and tadpole[p] < 0, (p, tadpole)
