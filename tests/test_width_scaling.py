"""Item 6 of the core issue at CI size: the deviations from the GP fall like 1/N and the
connected 6-pt like 1/N^2; G2 matches the kernel at every width."""

from __future__ import annotations

import numpy as np
import pytest

from nnft_ppl.report._scaling import fit_slopes, width_scaling
from nnft_ppl.stats import se_threshold

RELU_X = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
ERF_X = np.array([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0])


def _check(ds, observables):
    fits = fit_slopes(ds)
    thr = se_threshold(len(observables))
    for v in observables:
        f = fits[v]
        assert "slope" in f, f"{v}: {f.get('error')}"
        assert abs(f["slope"] - f["expected"]) <= thr * f["slope_se"], (
            f"{v}: slope {f['slope']:.3f} ± {f['slope_se']:.3f}"
        )
        assert len(f["widths_used"]) >= 3
    # G2 against the kernel at every width and pair
    assert float(ds.G2_max_abs_z.max()) <= ds.attrs["g2_threshold"]
    # the exact 1/N theory agrees with the measured d4 at every width
    z = (ds.d4.values - ds.d4_exact.values) / ds.d4_se.values
    assert np.max(np.abs(z)) <= se_threshold(ds.width.size, dof=63)
    return fits


@pytest.fixture(scope="module")
def relu():
    return width_scaling("ReLUNet", {}, RELU_X, [2, 3, 4, 5, 6, 8], 300_000, key=1, dtype="float64", progress=False)


def test_relu_slopes(relu):
    fits = _check(relu, ["d4", "d6m", "d6c"])
    assert fits["d6c"]["expected"] == -2.0


def test_slope_test_has_power(relu):
    """The same fits reject the wrong power (1/N^2 for d4, 1/N for d6c)."""
    fits = fit_slopes(relu)
    assert abs(fits["d4"]["slope"] + 2.0) > 4 * fits["d4"]["slope_se"]
    assert abs(fits["d6c"]["slope"] + 1.0) > 4 * fits["d6c"]["slope_se"]


def test_erf_six_point_deviation_falls_like_one_over_n():
    ds = width_scaling("ErfNet", {}, ERF_X, [2, 3, 4, 5], 1_000_000, key=2, dtype="float64", progress=False)
    _check(ds, ["d4", "d6"])
