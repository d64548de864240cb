"""Item 6 of the core issue at CI size: the deviations from the GP fall like 1/N and the
connected 6-pt like 1/N^2; G2 matches the kernel at every width."""

from __future__ import annotations

import numpy as np

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


def test_relu_slopes_and_their_power():
    ds = width_scaling("ReLUNet", {}, RELU_X, [2, 3, 4, 5, 6, 8], 300_000, key=1, dtype="float64", progress=False)
    fits = _check(ds, ["d4", "d6m", "d6c"])
    # the same fits reject the wrong power (1/N^2 for d4, 1/N for d6c)
    assert abs(fits["d4"]["slope"] + 2.0) > 4 * fits["d4"]["slope_se"]
    assert abs(fits["d6c"]["slope"] + 1.0) > 4 * fits["d6c"]["slope_se"]


def test_erf_six_point_deviation_falls_like_one_over_n():
    """ErfNet's 1/N^2 part is small (d6c << d6), so the full 6-pt deviation shows 1/N directly."""
    ds = width_scaling("ErfNet", {}, ERF_X, [2, 3, 4], 500_000, key=2, dtype="float64", progress=False)
    _check(ds, ["d6"])
