"""Issue 16 (hosts): two processes joined by `jax.distributed` (loopback, gloo CPU collectives)
split one ensemble run between them and both get the single-process result (to float64 rounding).
The neuron-level estimator streams through the same code (tests/test_devices.py covers it on a mesh)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import NNFTError
from nnft_ppl._distributed import initialize
from nnft_ppl.ensemble import ensemble_correlators

X = np.linspace(-1.0, 1.0, 3)[:, None]
KW = dict(max_order=4, n_blocks=8, progress=False)

WORKER = textwrap.dedent(
    """
    import json
    from nnft_ppl._distributed import initialize, shutdown
    pid, count = initialize()  # NNFT_COORDINATOR, NNFT_NUM_PROCESSES, NNFT_PROCESS_ID
    import jax, numpy as np
    import nnft_ppl as nn
    from nnft_ppl.ensemble import ensemble_correlators
    x = np.linspace(-1.0, 1.0, 3)[:, None]
    kw = dict(max_order=4, n_blocks=8, progress=False)
    a = ensemble_correlators(nn.ErfNet(width=4), x, 2000, key=1, **kw)
    out = {"pid": pid, "count": count, "devices": jax.device_count(), "local": jax.local_device_count()}
    out.update({f"network.{v}": a[v].values.tolist() for v in ("G2", "G4c", "G4c_se", "G4c_khat")})
    print("RESULT" + json.dumps(out), flush=True)
    shutdown()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(JAX_PLATFORMS="cpu", NNFT_COORDINATOR=f"127.0.0.1:{port}", NNFT_NUM_PROCESSES="2")
    env["XLA_FLAGS"] = "--xla_backend_optimization_level=0"  # the suite's -O0 (tests/conftest.py) only
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env={**env, "NNFT_PROCESS_ID": str(i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = []
    for p in procs:
        try:
            so, se = p.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        assert p.returncode == 0, se[-3000:]
        outs.append(json.loads(next(s for s in so.splitlines() if s.startswith("RESULT"))[len("RESULT") :]))
    return outs


def test_two_processes_get_the_single_process_result(two_processes):
    ref = {
        "network": ensemble_correlators(nn.ErfNet(width=4), X, 2000, key=1, devices=1, **KW),
    }
    assert sorted(o["pid"] for o in two_processes) == [0, 1]
    for o in two_processes:
        assert (o["count"], o["devices"], o["local"]) == (2, 2, 1)
        for name, v in [k.split(".") for k in o if "." in k]:
            want = ref[name][v].values
            got = np.asarray(o[f"{name}.{v}"])
            scale = float(np.max(np.abs(want))) or 1.0
            assert np.max(np.abs(got - want)) <= 1e-11 * scale, (o["pid"], name, v)


def test_bad_process_settings_refused(monkeypatch):
    monkeypatch.setenv("NNFT_NUM_PROCESSES", "two")
    with pytest.raises(NNFTError, match="NNFT_NUM_PROCESSES"):
        initialize()
    monkeypatch.setenv("NNFT_NUM_PROCESSES", "2")
    monkeypatch.delenv("NNFT_COORDINATOR", raising=False)
    with pytest.raises(NNFTError, match="coordinator"):
        initialize(process_id=0)
    with pytest.raises(NNFTError, match="process_id"):
        initialize("127.0.0.1:1", process_id=5)


def test_single_process_without_settings_is_a_no_op(monkeypatch):
    for k in ("NNFT_COORDINATOR", "NNFT_NUM_PROCESSES", "NNFT_PROCESS_ID", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(k, raising=False)
    assert initialize() == (0, 1)
