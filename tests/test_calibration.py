"""Calibration over seeds (CI slice of `benchmarks/calibration.py`): the 95% intervals of the smeared G2,
G4c, G6c cover the exact value 95% of the time within 3 binomial SE wherever the summands' k-hat is below
0.5, and the same check would catch error bars 30% too small; heavy-tailed entries are flagged by k-hat.
The suite runs the six entries whose light and heavy tails the checks name (`SLICE`); the study
benchmarks/studies/test_calibration_zoo.py runs the same checks on every entry with exact cumulants
(the slice's entries on the same keys)."""

from __future__ import annotations

import numpy as np
import pytest

from nnft_ppl._tails import max_khat
from nnft_ppl.ensemble import cumulants, ensemble_correlators, moments, sorted_tuples, tensor_sum
from nnft_ppl.width_scaling._calibration import _per_seed, block_moment_sums, calibrate_ensemble, zoo_entries

X = np.array([-0.5, 0.5])
N_SEEDS, N_PER_SEED, N_BLOCKS, WIDTH = 200, 4096, 32, 3


#: the entries the checks below name; the others (FreeScalar, ConformalField, KAN, SharedScaleNet: ~25 s of
#: compilation and numerical exact cumulants) are calibrated in benchmarks/studies/test_calibration_zoo.py
SLICE = ("CosNet", "ErfNet", "GaussNet", "LinearFeatures", "ReLUNet", "SingleLayer")


def calibrate_zoo(names=None):
    """`calibrate_ensemble` for each zoo entry with exact cumulants (or those in `names`), each on its
    own fixed key (the entry's place in the zoo: a slice draws what the whole-zoo study draws)."""
    return {
        name: calibrate_ensemble(arch, X, N_SEEDS, N_PER_SEED, key=100 + i, n_blocks=N_BLOCKS)
        for i, (name, arch) in enumerate(zoo_entries(WIDTH).items())
        if names is None or name in names
    }


@pytest.fixture(scope="module")
def calib():
    return calibrate_zoo(SLICE)


def test_coverage_within_binomial_errors_where_tails_are_light(calib):
    checked = check_coverage(calib)
    # what is light-tailed at this size (k-hat per seed of 4,096 networks): G2 everywhere but GaussNet,
    # G4c of ErfNet and CosNet, every order of LinearFeatures (uniform weights)
    light = {(n, 2) for n in ("ErfNet", "CosNet", "ReLUNet", "SingleLayer")} | {("ErfNet", 4), ("CosNet", 4)}
    assert light | {("LinearFeatures", r) for r in (2, 4, 6)} <= set(checked), checked


def check_coverage(calib) -> list:
    """Coverage within 3 binomial SE, and power against 30% too small error bars, for every entry and
    order whose k-hat is below 0.5; returns the (entry, order) pairs checked."""
    checked = []
    for name, by_order in calib.items():
        for r, c in by_order.items():
            if not c.khat < 0.5:
                continue
            cov, se = c.coverage()
            assert abs(cov - 0.95) <= 3 * se, f"{name} order {r}: coverage {cov:.3f} ± {se:.3f}"
            # power: error bars 30% too small would fail the same check
            small, _ = c.coverage(se_scale=0.7)
            assert small < 0.95 - 3 * se, f"{name} order {r}: no power ({small:.3f} at 0.7 SE)"
            checked.append((name, r))
    return checked


def test_heavy_tails_are_flagged_where_the_intervals_fail(calib):
    """Where coverage fails (GaussNet's lognormal-like G4c and G6c, ReLUNet's and CosNet's G6c at
    4,096 networks) k-hat flags the entry: every failure is flagged, so the check above has teeth."""
    failed = check_failures_flagged(calib)
    assert {("GaussNet", 4), ("GaussNet", 6), ("ReLUNet", 6), ("CosNet", 6)} <= failed, failed
    assert calib["GaussNet"][6].summary()["khat_flag"] == "unreliable"


def check_failures_flagged(calib) -> set:
    """Every (entry, order) whose coverage is off by more than 3 binomial SE has k-hat above 0.5;
    returns the failures."""
    failed = set()
    for name, by_order in calib.items():
        for r, c in by_order.items():
            cov, se = c.coverage()
            if abs(cov - 0.95) > 3 * se:
                failed.add((name, r))
                assert c.khat > 0.5, f"{name} order {r}: coverage {cov:.3f} with k-hat {c.khat:.2f}"
    return failed


def test_vectorised_block_sums_are_the_ensemble_estimator():
    """The calibration's block sums, k-hat and per-seed estimates are those of `ensemble_correlators`
    on the same key."""
    arch = zoo_entries(WIDTH)["ReLUNet"]
    ms, tops = block_moment_sums(arch, X[:, None], 3 * 2048, 7, 96, 6, group=2048)
    _, ref = ensemble_correlators(arch, X, 3 * 2048, 7, n_blocks=96, progress=False, return_sums=True)
    np.testing.assert_allclose(ms.block_sums, ref.block_sums, rtol=1e-12, atol=1e-12 * np.abs(ref.block_sums).max())
    assert ms.khat == ref.khat
    # per-group tails: each group's k-hat is that of a run of the group's networks alone
    _, first = ensemble_correlators(arch, X, 2048, 7, n_blocks=32, progress=False, return_sums=True)
    assert tops.shape[0] == 3 and max_khat(tops[0], 2048, 6) == pytest.approx(first.khat[6], abs=1e-12)
    # per seed (3 seeds of 32 blocks), all seeds in one pass: each seed's own estimator
    for r in (2, 4, 6):
        tl = sorted_tuples(2, r)
        est, se = _per_seed(ms, 3, r)
        for s in range(3):
            part = ms._replace(block_sums=ms.block_sums[32 * s : 32 * (s + 1)], block_counts=ms.block_counts[:32])
            e = tensor_sum(moments(part, tl) if r == 2 else cumulants(part, tl), tl)
            np.testing.assert_allclose([est[s], se[s]], [float(e.value), float(e.se)], rtol=1e-12, atol=0)
