"""Shared test helpers: the zoo grid and significance checks stated in standard errors."""

from __future__ import annotations

import dataclasses

import numpy as np

from nnft_ppl._tensors import distinct_mask
from nnft_ppl.architectures import REGISTRY, make_architecture
from nnft_ppl.stats import se_threshold


def zoo_arch(name: str, d: int = 1, **over):
    """A small, fast instance for the zoo-wide tests: width 3 unless the class's
    `zoo_test_params` say otherwise (any new entry works with none)."""
    cls = REGISTRY[name]
    small = {"width": 3} if "width" in {f.name for f in dataclasses.fields(cls)} else {}
    return make_architecture(name, **{**small, "d": d, **cls.zoo_test_params, **over})


def zoo_names() -> list[str]:
    """Every registered architecture (derived from the classes: defining one adds it)."""
    return sorted(REGISTRY)


ZOO = zoo_names()


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


#: boolean mask of the entries with non-decreasing indices (the distinct ones of a symmetric tensor)
sorted_unique = distinct_mask
