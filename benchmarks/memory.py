#!/usr/bin/env python3
"""Peak resident memory of the streaming ensemble estimator against the number of networks.

Each size runs in a fresh subprocess (ErfNet, width 100, 6 points, order 6, float32 draws, float64
sums) and reports its peak RSS (`resource.getrusage`, ru_maxrss) and its time; the default sizes end
with the issue's 10^8 networks, which must stay under 2 GB. Prints one line per size and writes JSON.

Usage: python benchmarks/memory.py [--nets 1e4 1e6 1e8] [--width 100] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import resource, sys, time
import numpy as np
import nnft_ppl as nn
from nnft_ppl.ensemble import ensemble_correlators
n, width = int(float(sys.argv[1])), int(sys.argv[2])
x = np.linspace(-1.0, 1.0, 6)[:, None]
t = time.perf_counter()
ds = ensemble_correlators(nn.ErfNet(width=width), x, n, key=0, max_order=6, dtype="float32", progress=False)
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"RESULT {n} {rss:.1f} {dt:.2f} {float(ds.G6c_khat):.3f}")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", nargs="+", default=["1e4", "1e6", "1e8"])
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--limit-mb", type=float, default=2048)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    a = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    rows = []
    for n in a.nets:
        out = subprocess.run([sys.executable, "-c", CHILD, n, str(a.width)], capture_output=True, text=True, env=env)
        line = next((s for s in out.stdout.splitlines() if s.startswith("RESULT")), None)
        if line is None:
            print(out.stderr[-2000:])
            return 1
        _, nn_, rss, dt, kh = line.split()
        rows.append({"n_nets": int(nn_), "peak_rss_mb": float(rss), "seconds": float(dt), "G6c_khat": float(kh)})
        r = rows[-1]
        print(
            f"ErfNet width={a.width} points=6 order 6: {r['n_nets']:.0e} networks, peak RSS {r['peak_rss_mb']:.0f} MB, "
            f"{r['seconds']:.1f} s ({r['n_nets'] / r['seconds']:,.0f} nets/s)",
            flush=True,
        )
    worst = max(r["peak_rss_mb"] for r in rows)
    print(f"largest peak {worst:.0f} MB: {'under' if worst < a.limit_mb else 'OVER'} the {a.limit_mb:.0f} MB limit")
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "memory.json").write_text(json.dumps({"width": a.width, "rows": rows}, indent=1))
    return 0 if worst < a.limit_mb else 1


if __name__ == "__main__":
    sys.exit(main())
