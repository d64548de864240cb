"""Checkpoints of streamed block sums: fingerprinted, atomic, linear in the number of blocks.

Layout: the checkpoint path is a small JSON manifest holding the run's fingerprint (one hash
per component that determines the result); finished blocks live beside it, one file per block
in `<path>.blocks/`. Every file is written to a temporary name, fsynced and renamed into
place, so an interrupted write leaves the previous state; each block is written once, so the
bytes written grow linearly with the blocks. A resumed run must match every component of the
fingerprint, or it is refused with the components that differ named.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
import os
import types
from pathlib import Path

import numpy as np

from .._errors import NNFTError

FORMAT = "nnft_ppl-checkpoint-2"


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\x00")
    return h.hexdigest()[:24]


def _code_digest(code: types.CodeType, globs: dict) -> str:
    consts = []
    for c in code.co_consts:
        consts.append(_code_digest(c, globs) if isinstance(c, types.CodeType) else repr(c))
    # plain values the code reads from its module (a global scale factor) are part of it
    names = [f"{n}={globs[n]!r}" for n in code.co_names if isinstance(globs.get(n), (int, float, complex, str))]
    return _digest(code.co_code, consts, code.co_names, names)


def callable_identity(fn) -> str:
    """A stable identity for a function: module and qualified name, plus a hash of its bytecode,
    constants, defaults and closure (so two lambdas, or a function redefined with another body,
    differ). Callables that cannot be identified are refused."""
    target = fn
    while not hasattr(target, "__code__") and hasattr(target, "__wrapped__"):
        target = target.__wrapped__
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"
    code = getattr(target, "__code__", None)
    if isinstance(code, types.CodeType):
        closure = [value_identity(c.cell_contents) for c in (getattr(target, "__closure__", None) or ())]
        defaults = repr(getattr(target, "__defaults__", None))
        return f"{name}:{_digest(_code_digest(code, getattr(target, '__globals__', {})), closure, defaults)}"
    if "?" not in name and "<" not in name:  # a named builtin or ufunc: its name identifies it
        return name
    raise NNFTError(
        f"checkpoint: cannot identify the callable {fn!r} for the checkpoint fingerprint; "
        "use a named Python function or run without a checkpoint"
    )


def value_identity(v) -> str:
    """Identity of a parameter value: plain values by repr, arrays by content, callables by
    `callable_identity`, dataclasses (modules) field by field."""
    if getattr(v, "weak_type", False) and np.shape(v) == ():  # an architecture's scale: by its float, as before
        v = float(v)
    if v is None or isinstance(v, (bool, int, float, complex, str)):
        return f"{type(v).__name__}:{v!r}"
    if isinstance(v, (tuple, list)):
        return f"{type(v).__name__}[{','.join(value_identity(e) for e in v)}]"
    if isinstance(v, np.ndarray) or hasattr(v, "__array__") and not callable(v):
        a = np.asarray(v)
        return f"array{a.shape}{a.dtype}:{_digest(np.ascontiguousarray(a).tobytes())}"
    if dataclasses.is_dataclass(v):
        fields = ",".join(f"{f.name}={value_identity(getattr(v, f.name))}" for f in dataclasses.fields(v))
        return f"{type(v).__module__}.{type(v).__qualname__}({fields})"
    if callable(v):
        return callable_identity(v)
    raise NNFTError(f"checkpoint: cannot identify the parameter value {v!r} for the checkpoint fingerprint")


def fingerprint(arch, x: np.ndarray, **components) -> dict[str, str]:
    """One hash per component that determines the result: the architecture (every field, callables
    included), the points, the library version and the given `components` (dtype, estimator ...)."""
    from .. import __version__

    x = np.ascontiguousarray(np.asarray(x, np.float64))
    out = {
        "library version": str(__version__),
        "architecture": _digest(value_identity(arch)),
        "points": _digest(x.shape, x.tobytes()),
    }
    out.update({k: _digest(json.dumps(v, sort_keys=True, default=str)) for k, v in components.items()})
    return out


_AUTO: contextvars.ContextVar = contextvars.ContextVar("nnft_auto_checkpoints", default=None)


@contextlib.contextmanager
def auto_checkpoints(folder):
    """Within the block, every streamed ensemble run without its own `checkpoint` is checkpointed
    in `folder` as `stage0001.ckpt`, `stage0002.ckpt`, ... in call order (a recipe's stages: the
    same recipe calls them in the same order, and each stage's own fingerprint is checked too)."""
    token = _AUTO.set([Path(folder), 0])
    try:
        yield
    finally:
        _AUTO.reset(token)


def next_auto_checkpoint() -> Path | None:
    """The next stage's checkpoint path inside `auto_checkpoints`, else None."""
    state = _AUTO.get()
    if state is None:
        return None
    state[1] += 1
    return state[0] / f"stage{state[1]:04d}.ckpt"


def _atomic_write(path: Path, write) -> int:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
    os.replace(tmp, path)
    return size


class CheckpointStore:
    """The on-disk checkpoint of one run (see the module docstring)."""

    def __init__(self, path, fp: dict[str, str], write: bool = True):
        self.path = Path(path)
        self.write = write  # False on every process but the first of a multi-process run
        self.blocks = self.path.with_name(self.path.name + ".blocks")
        self.fp = fp
        self.bytes_written = 0

    def _refuse(self, why: str):
        raise NNFTError(
            f"checkpoint: {self.path} {why}; remove it (and {self.blocks.name}/ beside it) or pick another path"
        )

    def load(self, n_blocks: int, n_sums: int, tail_shape: tuple[int, int]):
        """Validate (before any block runs) and return the finished blocks: sums (B, K), done (B,)
        and per-block tails {b: (S, M)}; a fresh manifest is written when none exists."""
        sums, done, tails = np.zeros((n_blocks, n_sums)), np.zeros(n_blocks, bool), {}
        if self.path.is_dir():
            self._refuse("is a folder, not a checkpoint file")
        if not self.path.exists():
            if not self.write:
                return sums, done, tails
            self.blocks.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"format": FORMAT, "fingerprint": self.fp}, sort_keys=True).encode()
            self.bytes_written += _atomic_write(self.path, lambda f: f.write(body))
            return sums, done, tails
        try:
            manifest = json.loads(self.path.read_bytes().decode())
            ok = manifest.get("format") == FORMAT and isinstance(manifest.get("fingerprint"), dict)
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, OSError):
            ok = False
        if not ok:
            self._refuse("is damaged or not an nnft_ppl checkpoint")
        old = manifest["fingerprint"]
        differ = sorted(k for k in set(old) | set(self.fp) if old.get(k) != self.fp.get(k))
        if differ:
            self._refuse(f"was written by a different run (differs in: {', '.join(differ)})")
        if self.write:
            self.blocks.mkdir(parents=True, exist_ok=True)
        for b in range(n_blocks):
            f = self.blocks / f"block{b:05d}.npz"
            if not f.exists():
                continue
            try:
                with np.load(f) as z:
                    s, t = z["sums"], z["tails"]
            except Exception:  # noqa: BLE001  (any unreadable block file is refused the same way)
                self._refuse(f"has a damaged block file {f.name}")
            if s.shape != (n_sums,) or t.shape != tail_shape:
                self._refuse(f"has a block file {f.name} of the wrong shape")
            sums[b], done[b], tails[b] = s, True, t
        return sums, done, tails

    def save_block(self, b: int, sums: np.ndarray, tails: np.ndarray) -> None:
        """Write one finished block (its sums and its own largest |y|), atomically."""
        if not self.write:
            return
        self.bytes_written += _atomic_write(
            self.blocks / f"block{b:05d}.npz", lambda f: np.savez(f, sums=sums, tails=tails)
        )
