"""Bytes a checkpointed run writes, against its number of blocks (should grow linearly).

    python benchmarks/checkpoint_io.py [--points 10] [--order 4] [--nets 20000]

Every checkpoint write goes to a temporary file renamed into place (`os.replace`); the
benchmark counts the bytes of each file so renamed. Run it with PYTHONPATH pointing at an
older checkout for the before/after comparison (the old format rewrote every block's sums at
each block: quadratic in the block count).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl as nn
from nnft_ppl.ensemble import ensemble_correlators

_written = [0]
_replace = os.replace


def _counting_replace(src, dst, *a, **k):
    _written[0] += os.path.getsize(src)
    return _replace(src, dst, *a, **k)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10)
    ap.add_argument("--order", type=int, default=4)
    ap.add_argument("--nets", type=int, default=20_000)
    args = ap.parse_args()
    os.replace = _counting_replace
    arch = nn.ErfNet(width=4)
    x = np.linspace(-1, 1, args.points)
    print(f"ErfNet width 4, {args.points} points, order {args.order}, {args.nets} networks")
    print(f"{'blocks':>6} {'bytes written':>14} {'per block':>10}")
    for blocks in (8, 16, 32, 64, 128):
        _written[0] = 0
        with tempfile.TemporaryDirectory() as d:
            ensemble_correlators(
                arch,
                x,
                args.nets,
                key=0,
                max_order=args.order,
                n_blocks=blocks,
                progress=False,
                checkpoint=Path(d) / "ck",
            )
        print(f"{blocks:>6} {_written[0]:>14,} {_written[0] / blocks:>10,.0f}")


if __name__ == "__main__":
    main()
