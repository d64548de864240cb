"""Universal approximation in action: trained single-layer nets get better with width, and the
rate fit recovers a known power law. The full study (five widths, fitted rate with a CI) is
benchmarks/uat.py."""

from __future__ import annotations

import numpy as np
import pytest

from nnft_ppl import NNFTError
from nnft_ppl.expressivity import fit_rate, sup_errors


def test_sup_error_falls_with_width():
    """Mean log sup-norm error over 4 seeds at width 16 below that at width 2 by more than 4
    standard errors (one-sided; SE of each mean from the spread across seeds)."""
    small = np.log(sup_errors(2, n_seeds=4, key=0, steps=1500, n_checks=3))
    large = np.log(sup_errors(16, n_seeds=4, key=1, steps=1500, n_checks=3))
    se = np.hypot(small.std(ddof=1) / 2, large.std(ddof=1) / 2)
    assert small.mean() - large.mean() > 4 * se, (small, large)


def test_fit_rate_recovers_a_power_law():
    widths = np.array([2, 4, 8, 16])
    noise = np.exp(np.array([[0.1, -0.1], [-0.1, 0.1], [0.1, -0.1], [-0.1, 0.1]]))
    rate = fit_rate(widths, 3.0 * widths[:, None] ** -1.5 * noise)
    assert abs(rate.slope + 1.5) < 1e-12 and abs(rate.amplitude - 3.0) < 1e-12
    assert rate.ci[0] < -1.5 < rate.ci[1] and rate.slope_se > 0
    with pytest.raises(NNFTError, match="errors"):
        fit_rate(widths, np.ones((3, 2)))
    with pytest.raises(NNFTError, match="width"):
        sup_errors(0)
