"""Issue 16 (bounded memory): the streaming estimator's peak resident memory does not grow with the
number of networks (measured in a fresh subprocess: two runs, 8x apart, same compiled step), and a
full tensor basis too large to hold is refused with a message pointing at index tuples."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

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

CHILD = textwrap.dedent(
    f"""
    import resource
    import numpy as np
    import nnft_ppl as nn
    from nnft_ppl.ensemble import ensemble_correlators
    x = np.linspace(-1.0, 1.0, 6)[:, None]
    kw = dict(max_order=4, n_blocks=16, chunk=2000, dtype="float32", progress=False)
    peak = []
    for i, n in enumerate(({N_SMALL}, {N_SMALL}, {N_LARGE})):
        ensemble_correlators(nn.ErfNet(width=10), x, n, key=i, **kw)  # the width does not matter here
        peak.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("RESULT", *peak)
    """
)


def test_peak_memory_flat_in_n_nets():
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # fewer per-thread malloc arenas: a steadier RSS
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    warm, small, large = map(float, next(s for s in out.stdout.splitlines() if s.startswith("RESULT")).split()[1:])
    # the first run compiles; the second (same size) is the baseline of a warm process
    assert large - small < BOUND_MB, (warm, small, large)


def test_too_many_points_for_full_tensors_refused_with_a_pointer_to_tuples():
    x = np.linspace(-1.0, 1.0, 20)[:, None]
    with pytest.raises(NNFTError, match=r"x: 20 points at order 6 need \d+ monomials; pass `tuples=`"):
        ensemble_correlators(nn.ErfNet(width=3), x, 4000, key=0, max_order=6, progress=False)
