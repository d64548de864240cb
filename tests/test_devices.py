"""Issue 16 (devices): the ensemble estimators and the NUTS chains split over a device mesh give,
for the same key, the results of one device (to float64 rounding): the draws never depend on the
device count. Four CPU devices are forced in a subprocess (this process keeps its own count); the same
subprocess first measures the peak memory of tests/test_memory.py and last runs tests/test_x64.py's float64
checks in its 32-bit mode, and records whether importing `nnft_ppl.deform` loaded ArviZ (one Python + JAX
start for the four)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import NNFTError
from nnft_ppl.ensemble import ensemble_correlators
from tests.test_memory import BOUND_MB, N_LARGE, N_SMALL
from tests.test_x64 import X as X64_POINTS
from tests.test_x64 import check_fresh_float64_run

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, warnings
    import jax, numpy as np
    import jax.numpy as jnp

    x64_before = jax.config.jax_enable_x64  # tests/test_x64.py: importing nnft_ppl changes no JAX setting
    import nnft_ppl as nn
    from nnft_ppl import deform as D

    arviz_at_import = "arviz_base" in sys.modules  # test_no_arviz_at_import: deform loads ArviZ lazily
    from nnft_ppl.ensemble import ensemble_correlators, neuron_correlators

    assert jax.device_count() == 4, jax.devices()
    out = {"x64.x64_before": x64_before, "x64.x64_after": jax.config.jax_enable_x64}
    out["arviz_at_import"] = arviz_at_import

    # tests/test_memory.py's measurement, first (the peak RSS only grows: nothing may run before it)
    xm = np.linspace(-1.0, 1.0, 6)[:, None]
    kwm = dict(max_order=4, n_blocks=16, chunk=2000, dtype="float32", progress=False, devices=1)
    peak = []
    for i, n in enumerate(MEMORY_SIZES):
        ensemble_correlators(nn.ErfNet(width=10), xm, n, key=i, **kwm)  # the width does not matter here
        peak.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["memory.peak_mb"] = peak

    x = np.linspace(-1.0, 1.0, 3)[:, None]
    kw = dict(max_order=4, n_blocks=8, progress=False)

    def record(name, run):
        a, b = run(1), run(4)
        for v in a.data_vars:
            scale = float(np.max(np.abs(a[v].values))) or 1.0
            out[f"{name}.{v}"] = float(np.max(np.abs(a[v].values - b[v].values))) / scale

    record("network", lambda d: ensemble_correlators(nn.ErfNet(width=4), x, 2000, key=1, devices=d, **kw))
    record("neuron", lambda d: neuron_correlators(nn.ErfNet(width=4), x, 2000, key=2, devices=d, **kw))

    model = D.deform(nn.CosNet(width=3, d=1, sw=1.0, sa=1.0), D.Phi4(0.5), D.make_quadrature((-1.0, 1.0), 4))
    runs = {d: D.sample_deformed(model, x[:2], 7, num_warmup=30, num_samples=20, num_chains=4, devices=d)
            for d in (1, 4)}
    out["nuts.methods"] = [runs[1].meta["chain_method"], runs[4].meta["chain_method"]]
    for site, v in runs[1].samples.items():
        out[f"nuts.{site}"] = float(np.max(np.abs(v - runs[4].samples[site]))) / (float(np.max(np.abs(v))) or 1.0)

    # tests/test_x64.py: float64 entry points give float64 results in this 32-bit process (one device,
    # as in the test process that compares them)
    from nnft_ppl.theory import exact_connected

    arch = nn.ErfNet(width=5, sw=0.7, sb=0.3)
    xx = jnp.asarray(X64_POINTS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g4 = exact_connected(arch, xx, order=4)
        ens = ensemble_correlators(arch, xx, 2048, 3, max_order=2, n_blocks=8, progress=False, devices=1)
    out.update({
        "x64.zeros_dtype": str(jnp.zeros(1).dtype),
        "x64.g4": [float(v) for v in g4.ravel()],
        "x64.g2": [float(v) for v in ens["G2"].values.ravel()],
        "x64.g2_dtype": str(ens["G2"].dtype),
        "x64.truncation_warnings": [str(w.message) for w in caught if "truncated" in str(w.message)],
        "x64.scale": float(arch.sw),
    })
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def four_devices():
    # the suite's back-end flags (tests/conftest.py) kept beside the forced device count;
    # fewer per-thread malloc arenas: a steadier RSS for the memory measurement
    flags = f"--xla_force_host_platform_device_count=4 {os.environ.get('XLA_FLAGS', '')}".strip()
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu", "MALLOC_ARENA_MAX": "2"}
    script = SCRIPT.replace("MEMORY_SIZES", repr((N_SMALL, N_SMALL, N_LARGE))).replace("X64_POINTS", repr(X64_POINTS))
    env.pop("JAX_ENABLE_X64", None)  # nothing enables float64 in the child (tests/test_x64.py)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(s for s in proc.stdout.splitlines() if s.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


def test_one_and_four_devices_agree_to_float64_rounding(four_devices):
    """Every estimate (values, SEs, k-hat) of the network- and neuron-level estimators."""
    diffs = {k: v for k, v in four_devices.items() if k.split(".")[0] in ("network", "neuron")}
    assert {k.split(".")[0] for k in diffs} == {"network", "neuron"}
    worst = max(diffs, key=diffs.get)
    assert diffs[worst] < 1e-11, (worst, diffs[worst])  # float64 sums in another association


def test_nuts_chains_over_four_devices_draw_the_same_chains(four_devices):
    assert four_devices["nuts.methods"] == ["vectorized", "parallel"]
    nuts = {k: v for k, v in four_devices.items() if k.startswith("nuts.") and k != "nuts.methods"}
    assert "nuts.phi" in nuts
    # the same chains: 50 NUTS steps carry the float64 rounding of another vmap batch (one chain per
    # device instead of four) up to ~1e-9 relative; other draws would differ by O(1)
    assert max(nuts.values()) < 1e-6, nuts


def test_bad_devices_refused_before_sampling():
    x = np.linspace(-1.0, 1.0, 3)[:, None]
    for bad in (0, jax.device_count() + 1, "gpu", 1.5):
        with pytest.raises(NNFTError, match="devices:"):
            ensemble_correlators(nn.ErfNet(width=3), x, 2000, key=1, max_order=2, progress=False, devices=bad)


def test_peak_memory_flat_in_n_nets(four_devices):
    """tests/test_memory.py's check (its measurement shares this module's subprocess): the streaming
    estimator's peak RSS does not grow with the number of networks (runs of N_SMALL, N_SMALL, N_LARGE)."""
    warm, small, large = four_devices["memory.peak_mb"]
    # the first run compiles; the second (same size) is the baseline of a warm process
    assert large - small < BOUND_MB, (warm, small, large)


def test_import_leaves_x64_alone_and_entry_points_stay_float64(four_devices):
    """tests/test_x64.py's check (its fresh 32-bit process is this module's subprocess)."""
    check_fresh_float64_run({k.split(".", 1)[1]: v for k, v in four_devices.items() if k.startswith("x64.")})


def test_no_arviz_at_import(four_devices):
    """Importing nnft_ppl and nnft_ppl.deform does not load ArviZ (checked in the fresh subprocess)."""
    assert four_devices["arviz_at_import"] is False
