"""Symmetry statistics and Osterwalder-Schrader checks that any ensemble can be run through.

Inputs are ArviZ DataTrees (or Datasets/arrays) holding field samples `phi` (chain, draw,
point[, out]) with their points `x`; i.i.d. trees come from `prior_ensemble`,
`transformed_ensemble` and friends, MCMC trees from `nnft_ppl.deform`. Every test returns a
`SymmetryResult` (estimate, standard error (i.i.d. or ESS-based), statistic, Holm-corrected
p-value, verdict); `attach_results` writes them back into the tree as a `symmetry` group.

Models: any `Architecture` or `FieldSampler` (or a sampler callable). Tests are registered
(`register_symmetry_test`): the report runs every registered test that applies to an ensemble.
"""

from . import _checks  # noqa: F401  (registers the built-in tests)
from ._core import DEFAULT_ALPHA, SymmetryResult, holm, mean_se, z_result, zero_test
from ._data import Fields, as_fields, fields_datatree, prior_ensemble, transformed_ensemble
from ._deformed import deformed_ensemble
from ._models import FieldSampler, FreeCosNet, VectorGaussNet, kernel_sampler
from ._registry import (
    SYMMETRY_TESTS,
    EnsembleContext,
    SymmetryCheck,
    register_symmetry_test,
    unregister_symmetry_test,
)
from ._results import attach_results, read_results
from .invariance import (
    haar_rotation,
    internal_so_test,
    invariance_test,
    permutation_diffs,
    permutation_test,
    random_rotations,
    rotation_test,
    translation_test,
    z2_test,
)
from .os_axioms import (
    cluster_ensemble,
    cluster_test,
    reflect,
    reflection_ensemble,
    reflection_positivity_kernel,
    reflection_positivity_test,
)
from .power import power_markdown, power_table, smallest_detected

__all__ = [
    "DEFAULT_ALPHA",
    "SYMMETRY_TESTS",
    "EnsembleContext",
    "FieldSampler",
    "Fields",
    "FreeCosNet",
    "SymmetryCheck",
    "SymmetryResult",
    "VectorGaussNet",
    "as_fields",
    "attach_results",
    "cluster_ensemble",
    "cluster_test",
    "deformed_ensemble",
    "fields_datatree",
    "haar_rotation",
    "holm",
    "internal_so_test",
    "invariance_test",
    "kernel_sampler",
    "mean_se",
    "permutation_diffs",
    "permutation_test",
    "power_markdown",
    "power_table",
    "prior_ensemble",
    "random_rotations",
    "read_results",
    "reflect",
    "reflection_ensemble",
    "reflection_positivity_kernel",
    "reflection_positivity_test",
    "register_symmetry_test",
    "rotation_test",
    "smallest_detected",
    "transformed_ensemble",
    "translation_test",
    "unregister_symmetry_test",
    "z2_test",
    "z_result",
    "zero_test",
]

# float64 scoped to each public call (issue 11: importing nnft_ppl leaves jax_enable_x64 alone)
from .._x64 import scope_float64  # noqa: E402

scope_float64(globals(), __all__)
