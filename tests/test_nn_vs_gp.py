"""The debiased W2 distance to the GP and the NN-vs-GP recipes. The width study itself (networks converge
to their NNGP as the width grows) is benchmarks/studies/test_nn_vs_gp_widths.py (`make studies`)."""

from pathlib import Path

import numpy as np
import xarray as xr
from arviz_conventions import check_tree

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl.gp import w2_estimate, w2_to_gp
from nnft_ppl.recipes import load_recipe, run_recipe
from nnft_ppl.stats import se_threshold

ROOT = Path(__file__).resolve().parent.parent


def _draws(rng, shift, b=32, s=50, m=40, tau=0.3, s2=0.1):
    """Conditional moments whose mixture is exactly N(gm + shift, gv) at every grid point: cm ~ N(gm + shift,
    tau^2) per draw, cv = gv - s2 - tau^2, so the true W2 to the GP is |shift| pointwise."""
    gm, gv = np.linspace(-1, 1, m), np.full(m, 1.0)
    cm = gm + shift + tau * rng.standard_normal((b, s, m))
    return cm, np.full_like(cm, 1.0 - s2 - tau**2), s2, gm, gv


def test_w2_is_debiased_for_monte_carlo_noise():
    """Where the network equals the GP (true W2 = 0) the plug-in W2 sits at the noise, many SE above 0; the
    debiased squared distance is unbiased: over 200 replicas its mean is 0 within 4 SE (and its jackknife SE
    is not too small), and with a true shift it recovers shift^2 (and W2 = |shift|) within 4 SE."""
    rng = np.random.default_rng(0)
    cm, cv, s2, gm, gv = _draws(rng, 0.0)
    raw, raw_se = w2_to_gp(cm, cv, s2, gm, gv)
    assert raw > 4 * raw_se, (raw, raw_se)  # the old estimate: biased by > 4 of its own SE
    est = w2_estimate(cm, cv, s2, gm, gv)
    assert abs(est.d2) < se_threshold(1, 4.0, 31) * est.d2_se and not est.resolved, est
    assert est.raw == raw and est.noise_floor > 0.5 * raw, est  # the noise floor is what the raw value showed
    reps = [w2_estimate(*_draws(rng, 0.0)) for _ in range(200)]
    assert np.median([e.raw / e.raw_se for e in reps]) > 4  # the old estimate's bias, in its own SEs, typically
    d2 = np.array([e.d2 for e in reps])
    assert abs(d2.mean()) < 4 * d2.std(ddof=1) / np.sqrt(d2.size), d2.mean()
    assert np.mean([e.d2_se for e in reps]) > 0.8 * d2.std(ddof=1)  # the jackknife SE covers the scatter
    assert sum(e.resolved for e in reps) <= 2  # false alarms at the 4 SE level: ~0 expected
    shifted = w2_estimate(*_draws(rng, 0.05))
    assert abs(shifted.d2 - 0.05**2) < se_threshold(1, 4.0, 31) * shifted.d2_se and shifted.resolved, shifted
    assert abs(shifted.w2 - 0.05) < 4 * shifted.w2_se, shifted


def test_recipes(tmp_path):
    assert load_recipe(ROOT / "inference" / "nn_vs_gp.toml")["kind"] == "nn_vs_gp"
    spec = ROOT / "inference" / "gp_fit.toml"
    assert load_recipe(spec)["kind"] == "gp_fit"
    small = tmp_path / "small.toml"
    small.write_text(
        'kind = "gp_fit"\narchitectures = [{ name = "ErfNet" }]\n'
        "[fit]\nnum_iters = 20\n[datasets.diabetes_bmi]\nn = 30\n"
    )
    summary = run_recipe(small, tmp_path / "out", progress=False)
    assert "diabetes_bmi/ErfNet" in summary
    assert (tmp_path / "out" / "summary.md").is_file() and (tmp_path / "out" / "gp_diabetes_bmi_ErfNet.nc").is_file()
    fit = xr.open_dataset(tmp_path / "out" / "gp_diabetes_bmi_ErfNet.nc")
    check_tree(fit)  # one point-dim name (point, test_point) with the points as coordinates, version in attrs
    assert fit["loo_pointwise"].dims == ("point",) and fit.sizes["point"] == 30
