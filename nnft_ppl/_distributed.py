"""Multi-host runs with `jax.distributed`: one process per host (or per GPU).

`initialize()` reads the coordinator address, the process count and this process's id from
its arguments, else from `NNFT_COORDINATOR`, `NNFT_NUM_PROCESSES`, `NNFT_PROCESS_ID`, else
leaves them to JAX (which reads SLURM's and other clusters' variables itself). After it,
`jax.devices()` lists the devices of every process, and the ensemble estimators (default
`devices=None`) split their work over all of them; every process gets the same result.
On CPU the cross-process collectives use gloo.
"""

from __future__ import annotations

import os

import jax

from ._errors import NNFTError

ENV = ("NNFT_COORDINATOR", "NNFT_NUM_PROCESSES", "NNFT_PROCESS_ID")


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise NNFTError(f"{name}: expected an integer, got {raw!r}") from None


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    cpu_collectives: str = "gloo",
) -> tuple[int, int]:
    """Join (or start, as process 0) a multi-process JAX run; returns (process_id, num_processes).

    A single-process call with nothing configured is a no-op returning (0, 1). Call it before any
    other JAX computation."""
    coordinator = coordinator or os.environ.get("NNFT_COORDINATOR") or None
    num_processes = num_processes if num_processes is not None else _env_int("NNFT_NUM_PROCESSES")
    process_id = process_id if process_id is not None else _env_int("NNFT_PROCESS_ID")
    if num_processes is not None and num_processes < 1:
        raise NNFTError(f"num_processes: must be >= 1, got {num_processes}")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise NNFTError(f"process_id: must be in [0, {num_processes}), got {process_id}")
    explicit = coordinator is not None or (num_processes or 1) > 1
    if not explicit and not _cluster_detected():
        return 0, 1
    if num_processes is not None and num_processes > 1 and coordinator is None:
        raise NNFTError("coordinator: a multi-process run needs a coordinator address host:port (NNFT_COORDINATOR)")
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)
    return jax.process_index(), jax.process_count()


def _cluster_detected() -> bool:
    """A cluster JAX detects on its own (SLURM with several tasks, Open MPI, ...)."""
    return int(os.environ.get("SLURM_NTASKS", "1")) > 1 or "OMPI_COMM_WORLD_SIZE" in os.environ


def shutdown() -> None:
    """Leave the multi-process run (no-op when none was started)."""
    if jax.process_count() > 1:
        jax.distributed.shutdown()
