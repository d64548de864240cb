"""Issue 16 (bounded memory): the streaming estimator's peak resident memory does not grow with the
number of networks (measured in a fresh subprocess: two runs, 8x apart, same compiled step; asserted in
tests/test_devices.py, which shares that subprocess), and a
full tensor basis too large to hold is refused with a message pointing at index tuples."""

from __future__ import annotations

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import NNFTError
from nnft_ppl.ensemble import ensemble_correlators

N_SMALL, N_LARGE = 100_000, 800_000
#: the larger run may raise the peak by this much at most (allocator noise measured here: 0-11 MB);
#: a run holding its draws would need N_LARGE x 7 series x 8 bytes = 45 MB for |phi| alone and
#: 1.3 GB for its 209 monomials per network
BOUND_MB = 24.0

# The measurement (a fresh process: 1e5, 1e5, then 8e5 networks of ErfNet width 10 at 6 points, order 4,
# float32, chunk 2000, 16 blocks, one device; peak RSS after each) runs first in tests/test_devices.py's
# subprocess, whose `test_peak_memory_flat_in_n_nets` asserts the bound: one Python + JAX start for both.


def test_too_many_points_for_full_tensors_refused_with_a_pointer_to_tuples():
    x = np.linspace(-1.0, 1.0, 20)[:, None]
    with pytest.raises(NNFTError, match=r"x: 20 points at order 6 need \d+ monomials; pass `tuples=`"):
        ensemble_correlators(nn.ErfNet(width=3), x, 4000, key=0, max_order=6, progress=False)
