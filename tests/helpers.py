"""Shared test helpers: the zoo grid and significance checks stated in standard errors."""

from __future__ import annotations

import numpy as np

from nnft_ppl.architectures import REGISTRY, make_architecture
from nnft_ppl.stats import se_threshold

#: small, fast defaults per architecture for the zoo-wide tests (any new entry works with {})
ZOO_TEST_PARAMS = {"DeepMLP": {"width": 64, "depth": 2}}


def zoo_arch(name: str, d: int = 1, **over):
    params = {"width": 3, "d": d, **ZOO_TEST_PARAMS.get(name, {}), **over}
    return make_architecture(name, **params)


ZOO = sorted(REGISTRY)


def assert_within_se(est, se, ref, n_blocks: int | None = 64, unique=None, n_sigma: float = 4.0, what: str = ""):
    """All |est - ref| / se below the Bonferroni-corrected n_sigma threshold (Student t when
    the SE comes from a jackknife over n_blocks)."""
    est, se, ref = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (est, se, ref)))
    if unique is not None:
        est, se, ref = est[unique], se[unique], ref[unique]
    assert np.all(se > 0), f"{what}: zero standard error"
    z = np.abs(est - ref) / se
    thr = se_threshold(z.size, n_sigma, None if n_blocks is None else n_blocks - 1)
    worst = np.unravel_index(np.argmax(z), z.shape)
    assert z.max() <= thr, (
        f"{what}: max |z| = {z.max():.2f} > {thr:.2f} at {worst} (est {est[worst]}, ref {ref[worst]})"
    )
    return float(z.max())


def sorted_unique(shape):
    """Boolean mask of the entries with non-decreasing indices (the distinct ones of a symmetric tensor)."""
    idx = np.indices(shape).reshape(len(shape), -1)
    return np.all(np.diff(idx, axis=0) >= 0, axis=0).reshape(shape)
