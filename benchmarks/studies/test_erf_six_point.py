"""Study (moved from tests/test_width_scaling.py for time: ~28 s of `make test`): ErfNet's six-point
deviation from the GP falls like 1/N (3 widths x 500,000 networks; the slope's SE is ~0.36, so this is
a consistency check more than a measurement). The suite keeps ReLUNet's d4 slope, amplitude and power."""

import numpy as np

from nnft_ppl.width_scaling import fit_slopes, width_scaling

ERF_X = np.array([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0])


def test_erf_six_point_deviation_falls_like_one_over_n():
    """ErfNet's 1/N^2 part is small (d6c << d6), so the full 6-pt deviation shows 1/N directly."""
    ds = width_scaling("ErfNet", {}, ERF_X, [2, 3, 4], 500_000, key=2, dtype="float64", progress=False)
    assert np.all(ds.d6_khat.values <= 0.5), ds.d6_khat.values
    f = fit_slopes(ds)["d6"]
    assert f["verdict"] == "consistent", f
    assert abs(f["slope"] - f["expected"]) <= 4.0 * f["slope_se"]
    assert float(ds.G2_max_abs_z.max()) <= ds.attrs["g2_threshold"]
