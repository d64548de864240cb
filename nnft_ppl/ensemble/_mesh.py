"""Device meshes for the ensemble: which devices a run uses, and host values placed on them.

`devices=None` means every device JAX sees (in a multi-process run, started with
`nnft_ppl._distributed.initialize`, the devices of every process); an int k the first k;
a list of `jax.Device` those. Work is split over a one-axis mesh `"dev"`: each device
draws its own chunks and the sums are reduced across devices (and hosts) by `psum`.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._errors import NNFTError

AXIS = "dev"


def resolve_devices(devices=None) -> list:
    """The devices a run uses (`NNFTError` naming `devices` for a bad value)."""
    every = jax.devices()
    if devices is None:
        return list(every)
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        k = int(devices)
        if not 1 <= k <= len(every):
            raise NNFTError(f"devices: {k} requested, {len(every)} available ({jax.default_backend()})")
        if jax.process_count() > 1 and k != len(every):
            raise NNFTError(f"devices: a multi-process run uses every device of every process ({len(every)}); got {k}")
        return list(every[:k])
    if isinstance(devices, Sequence) and devices and all(isinstance(d, jax.Device) for d in devices):
        return list(devices)
    raise NNFTError(f"devices: expected None (all), a count or a list of jax devices, got {devices!r}")


def mesh_for(devices=None) -> Mesh:
    """A one-axis mesh (`"dev"`) over the resolved devices."""
    return Mesh(np.asarray(resolve_devices(devices)), (AXIS,))


def replicated(mesh: Mesh, value) -> jax.Array:
    """A host value (identical on every process) as an array replicated over `mesh`."""
    value = np.asarray(value)
    return jax.make_array_from_callback(value.shape, NamedSharding(mesh, PartitionSpec()), lambda idx: value[idx])


def sharded(mesh: Mesh, value) -> jax.Array:
    """A host value (identical on every process) split along its first axis over `mesh`."""
    value = np.asarray(value)
    return jax.make_array_from_callback(value.shape, NamedSharding(mesh, PartitionSpec(AXIS)), lambda idx: value[idx])


def is_writer() -> bool:
    """Whether this process writes files (process 0 of a multi-process run)."""
    return jax.process_index() == 0
