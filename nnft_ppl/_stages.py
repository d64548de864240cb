"""Checkpointed recipe stages: `nnft run --resume` continues a killed run where it stopped.

A run into `out` keeps its checkpoint in `.<out>.stages/` beside it: a manifest with the run's
fingerprint (recipe kind, recipe values, seed, points, library version: one hash each) and one
checkpoint per streamed ensemble stage (`ensemble._checkpoint.auto_checkpoints`: atomic block
files, each stage with its own fingerprint). Finished stages load instead of running again; the
folder is removed once the report is written. A checkpoint of another run is refused naming what
differs; a damaged one is refused, never mixed in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ._errors import NNFTError
from .ensemble._checkpoint import _atomic_write, auto_checkpoints

FORMAT = "nnft_ppl-stages-1"
POINT_KEYS = ("x", "points", "x_train", "x_test")


@dataclass
class Stages:
    folder: Path
    resumed: bool


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _points(node) -> list:
    """Every point list in the recipe (keys named like points), in a fixed order."""
    found = []
    if isinstance(node, dict):
        for k in sorted(node):
            found += [node[k]] if k in POINT_KEYS else _points(node[k])
    elif isinstance(node, list):
        for v in node:
            found += _points(v)
    return found


def _without_points(node):
    if isinstance(node, dict):
        return {k: _without_points(v) for k, v in node.items() if k not in POINT_KEYS}
    if isinstance(node, list):
        return [_without_points(v) for v in node]
    return node


def run_fingerprint(spec: dict) -> dict[str, str]:
    """One hash per component that determines a recipe's result."""
    from . import __version__

    rest = _without_points({k: v for k, v in spec.items() if k not in ("seed", "description")})
    return {
        "recipe kind": _digest(spec.get("kind")),
        "recipe values": _digest(rest),
        "seed": _digest(spec.get("seed", 0)),
        "points": _digest(_points(spec)),
        "library version": _digest(__version__),
    }


def stage_folder_path(out) -> Path:
    out = Path(out)
    return out.resolve().parent / f".{out.name}.stages"


def _check_manifest(folder: Path, fp: dict[str, str]) -> None:
    manifest = folder / "manifest.json"
    fix = f"remove {folder} to start over (or run without --resume)"
    try:
        old = json.loads(manifest.read_bytes().decode())
        ok = old.get("format") == FORMAT and isinstance(old.get("fingerprint"), dict)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        ok = False
    if not ok:
        raise NNFTError(f"--resume: the checkpoint {manifest} is damaged or not an nnft_ppl checkpoint; {fix}")
    differ = sorted(k for k in set(old["fingerprint"]) | set(fp) if old["fingerprint"].get(k) != fp.get(k))
    if differ:
        why = f"is of another run (differs in: {', '.join(differ)})"
        raise NNFTError(f"--resume: the checkpoint in {folder} {why}; {fix}")


@contextlib.contextmanager
def stage_folder(out, spec: dict, resume: bool) -> Iterator[Stages]:
    """Checkpoint every streamed stage of the run into `out` (see the module docstring)."""
    folder = stage_folder_path(out)
    fp = run_fingerprint(spec)
    resumed = False
    if folder.exists() and resume:
        _check_manifest(folder, fp)
        resumed = True
    elif folder.exists():
        warnings.warn(f"discarding the interrupted run's checkpoint {folder} (--resume continues it)", stacklevel=3)
        shutil.rmtree(folder)
    elif resume:
        warnings.warn(f"--resume: no checkpoint in {folder}; starting from the beginning", stacklevel=3)
    if not resumed:
        body = json.dumps({"format": FORMAT, "fingerprint": fp}, sort_keys=True).encode()
        try:
            folder.mkdir(parents=True)
            _atomic_write(folder / "manifest.json", lambda f: f.write(body))
        except OSError as e:
            raise NNFTError(f"--out: cannot create the checkpoint folder {str(folder)!r}: {e.strerror or e}") from None
    try:
        with auto_checkpoints(folder):
            yield Stages(folder, resumed)
    except BaseException:
        if not any(p.name != "manifest.json" for p in folder.iterdir()):  # refused before any stage ran
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)  # reached only when the report was written
