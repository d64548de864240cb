#!/usr/bin/env python3
"""The GPU check, one prepared script: ensemble throughput of the fused Pallas sampler
(engine="fused") and today's path beside the plain-JAX reference, as networks/s, billions of
activations/s and fractions of the H200 ceilings (issue 16), compile time apart; the neuron-level
estimator; NUTS ESS/s for 1 and 512 vectorized chains. About 4 minutes on one H200.

Needs jax, numpyro, equinox, xarray, scipy, tqdm and arviz-stats (every estimate carries its
Pareto k-hat, `nnft_ppl._tails`); no gpjax, no arviz-base. The device image lacks arviz-stats and
the reference script: `make gpu-prep` puts its wheel in .whl/ and the reference in .bench/ (both
git-ignored), to carry. On the device, from the checkout (carry .whl and .bench):

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:. && python3 benchmarks/gpu.py --out $OUT

The reference script is looked up at $NNFT_REFERENCE, .bench/reference_vmap.py, then
../shared/bench/reference_vmap.py. Results also go to DIR/gpu_results.json. A CPU smoke run in an
environment like the device's: `PYTHONPATH=. python benchmarks/gpu.py --quick`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

# the reference and NUTS run as subprocesses beside this one: no process grabs 75% of the card
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import _clock  # noqa: E402,F401  (after the env above: it imports jax; prints compile time at exit)
import jax  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnft_ppl as nn  # noqa: E402
from nnft_ppl.ensemble import ensemble_correlators, neuron_correlators  # noqa: E402
from nnft_ppl.ensemble._fused import GPU_TILES  # noqa: E402


def reference_path() -> Path | None:
    for p in (
        os.environ.get("NNFT_REFERENCE"),
        ROOT / ".bench" / "reference_vmap.py",
        ROOT.parent / "shared" / "bench" / "reference_vmap.py",
    ):
        if p and Path(p).is_file():
            return Path(p)
    return None


def run_reference(width: int, points: int, nets: int) -> float | None:
    ref = reference_path()
    if ref is None:
        return None
    out = subprocess.run(
        [sys.executable, str(ref), "--act", "erf", "--width", str(width), "--points", str(points), "--nets", str(nets)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    m = re.search(r"nets_per_s=([0-9.e+]+)", out.stdout)
    if m is None:
        print("reference failed:", out.stderr[-2000:], flush=True)
        return None
    return float(m.group(1))


#: ceilings measured on one H200 (../shared/ANCHORS.md): a fused single-layer sampler is bounded by
#: arithmetic near 1,500 G activations/s; threefry normals 156 G/s; the unfused path by memory traffic
CEILING_ACT = 1.5e12
CEILING_NORMALS = 1.56e11


#: seconds one timed run may take: a sampler far below its expected speed is timed on fewer networks
#: (from a probe run) instead of running the device's time out
RUN_BUDGET_S = 25.0


def run_ours(width, points, nets, chunk, key, engine="jax", tiles=None) -> tuple[float, float, int]:
    """(networks/s, compile + first-call seconds, networks timed) of `ensemble_correlators` on the
    anchor work; the timed run is cut to what `RUN_BUDGET_S` allows at the probe's speed."""
    arch = nn.ErfNet(width=width)
    x = np.linspace(-1.0, 1.0, points)[:, None]
    kw = dict(max_order=4, dtype="float32", progress=False, chunk=chunk, engine=engine)
    if tiles is not None:
        from nnft_ppl.ensemble import _fused

        _fused.TILE_NETS, _fused.TILE_NEURONS = tiles
        from nnft_ppl.ensemble import _stream

        _stream._STEPS.clear()
    probe = dict(kw, n_blocks=8)  # 8 blocks of one chunk each: the timed run's compiled step, 8 steps
    t = time.perf_counter()
    ensemble_correlators(arch, x, 8 * chunk, key=key + 100, **probe)  # compile
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    ensemble_correlators(arch, x, 8 * chunk, key=key + 200, **probe)
    probe_rate = 8 * chunk / (time.perf_counter() - t)
    nets = int(min(nets, max(64 * chunk, probe_rate * RUN_BUDGET_S)))
    t = time.perf_counter()
    ensemble_correlators(arch, x, nets, key=key, **kw)
    return nets / (time.perf_counter() - t), compile_s, nets


def describe(rate: float, width: int, points: int) -> dict:
    act = rate * width * points
    return {
        "nets_per_s": rate,
        "G_activations_per_s": act / 1e9,
        "fraction_of_arithmetic_ceiling": act / CEILING_ACT,
        "fraction_of_threefry_normals": rate * width * 3 / CEILING_NORMALS,  # W0, b0, W1 per neuron
    }


def fused_rows(res: dict, quick: bool) -> None:
    """The fused sampler on the anchor work (width 1000, 6 points), over a few tile shapes."""
    width, points = 1000, 6
    nets, chunk = (4096, 256) if quick else (20_000_000, 65_536)
    tiles = GPU_TILES[:1] if quick else GPU_TILES
    res["fused"] = []
    for tm, tn in tiles:
        try:
            rate, comp, timed = run_ours(width, points, nets, chunk, key=0, engine="fused", tiles=(tm, tn))
        except Exception as e:  # noqa: BLE001  (a tile shape the compiler refuses: report it and go on)
            print(f"fused tiles={tm}x{tn}: failed: {type(e).__name__}: {str(e)[:300]}", flush=True)
            res["fused"].append({"tiles": [tm, tn], "error": f"{type(e).__name__}: {str(e)[:300]}"})
            continue
        row = {"tiles": [tm, tn], "nets": timed, "compile_s": comp, **describe(rate, width, points)}
        res["fused"].append(row)
        print(
            f"fused ErfNet width={width} points={points} tiles={tm}x{tn} nets={timed}: {rate:.4g} nets/s, "
            f"{row['G_activations_per_s']:.1f} G act/s = {row['fraction_of_arithmetic_ceiling']:.1%} of the "
            f"1,500 G arithmetic ceiling (target 200 G, stretch 500 G); compile {comp:.1f} s",
            flush=True,
        )


def missing_needs() -> list[str]:
    """What this run would fail on, found before any device time is spent: a missing package (named
    with its remedy) or the reference script (the side-by-side ratio needs it)."""
    import importlib.util

    out = [f"package {m} (make gpu-prep; carry .whl)" for m in ("arviz_stats",) if importlib.util.find_spec(m) is None]
    if reference_path() is None:
        out.append("the reference script (make gpu-prep; carry .bench, or set NNFT_REFERENCE)")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (CPU smoke run)")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--skip-nuts", action="store_true")
    a = ap.parse_args()
    if missing := missing_needs():
        print("gpu.py: missing " + "; ".join(missing), file=sys.stderr, flush=True)
        return 2
    res: dict = {"backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()], "jax": jax.__version__}
    print(res, flush=True)
    fused_rows(res, a.quick)
    configs = [(1000, 6, 20_000_000, 65_536), (100, 6, 100_000_000, 262_144), (10_000, 6, 4_000_000, 8192)]
    if a.quick:
        configs = [(1000, 6, 40_000, 256)]
    res["ensemble"] = []
    for width, points, nets, chunk in configs:
        ours, ref, comp, timed = [], [], [], []
        for r in range(1 if a.quick else 2):
            rate, c, n_timed = run_ours(width, points, nets, chunk, key=r)
            ours.append(rate)
            comp.append(c)
            timed.append(n_timed)
            rr = run_reference(width, points, n_timed)  # the same work as ours
            if rr:
                ref.append(rr)
        nets = min(timed)
        row = {
            "width": width,
            "points": points,
            "nets": nets,
            "nnft_nets_per_s": statistics.median(ours),
            "reference_nets_per_s": statistics.median(ref) if ref else None,
            "compile_s": comp[0],
            "nnft": describe(statistics.median(ours), width, points),
            "reference": describe(statistics.median(ref), width, points) if ref else None,
        }
        row["ratio"] = row["nnft_nets_per_s"] / row["reference_nets_per_s"] if ref else None
        res["ensemble"].append(row)
        print(
            f"ensemble ErfNet width={width} points={points} nets={nets}: nnft_ppl {row['nnft_nets_per_s']:.4g} nets/s, "
            f"reference {row['reference_nets_per_s'] or float('nan'):.4g} nets/s, "
            f"ratio {row['ratio'] or float('nan'):.2f}x; {row['nnft']['G_activations_per_s']:.1f} G act/s "
            f"({row['nnft']['fraction_of_arithmetic_ceiling']:.1%} of the arithmetic ceiling); compile {comp[0]:.1f} s",
            flush=True,
        )
    # neuron level: G4c at width 1000 from single neurons
    arch = nn.ErfNet(width=1000)
    x = np.linspace(-1.0, 1.0, 6)[:, None]
    n_neur = 4096 if a.quick else 10_000_000
    neuron_correlators(arch, x, n_neur, key=1, max_order=4, progress=False, chunk=min(n_neur // 64, 262_144))
    t = time.perf_counter()
    dn = neuron_correlators(arch, x, n_neur, key=2, max_order=4, progress=False, chunk=min(n_neur // 64, 262_144))
    dt = time.perf_counter() - t
    res["neuron"] = {
        "n_neurons": n_neur,
        "seconds": dt,
        "neurons_per_s": n_neur / dt,
        "g4c_se_median": float(np.median(dn.G4c_se.values)),
    }
    print(
        f"neuron level: {n_neur} neurons in {dt:.3f} s ({n_neur / dt:.4g}/s), median G4c SE at N=1000 "
        f"{res['neuron']['g4c_se_median']:.3e}",
        flush=True,
    )
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "gpu_results.json").write_text(json.dumps(res, indent=1))
    if not a.skip_nuts:
        cmd = [sys.executable, str(ROOT / "benchmarks" / "nuts_chains.py")] + (
            ["--chains", "16", "--quick"] if a.quick else []
        )
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # keeps carried wheels
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env={**os.environ, "PYTHONPATH": path})
        print(out.stdout[-4000:], out.stderr[-2000:], flush=True)
        res["nuts_stdout"] = out.stdout
    (Path(a.out) / "gpu_results.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
