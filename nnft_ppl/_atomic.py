"""Report folders written atomically: into a temporary sibling folder, renamed into place at the end.

An existing report is replaced only when asked (`force=True`), and only if it is a report (it holds the
marker file) or empty: never mixed with new files, never left half-written by a killed run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from ._errors import NNFTError

#: marker file in every report folder the CLI writes
MARKER = ".nnft_report.json"


def check_target(out: Path, force: bool, what: str = "--out") -> None:
    """Refuse (before any work) an `out` that is a file, a foreign folder, or an existing report without `force`."""
    if out.exists() and not out.is_dir():
        raise NNFTError(f"{what}: {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise NNFTError(f"{what}: {str(out)!r} is a non-empty folder that is not an nnft report; choose another")
        if not force:
            raise NNFTError(f"{what}: {str(out)!r} already holds a report; pass --force to replace it")
    parent = out.resolve().parent
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise NNFTError(f"{what}: cannot write into {str(parent)!r} (permission denied)")


@contextlib.contextmanager
def report_folder(out, force: bool = False, info: dict | None = None, what: str = "--out") -> Iterator[Path]:
    """Yield a fresh temporary folder beside `out`; on success it replaces `out` in one rename.

    On an exception the temporary folder is removed and `out` is left as it was; a killed run leaves
    `out` intact and a `.<name>.partial-*` folder beside it."""
    out = Path(out)
    stale = sorted(p.name for p in out.resolve().parent.glob(f".{out.name}.partial-*")) if out.parent.exists() else []
    if stale:
        warnings.warn(
            f"{what}: an earlier run into {str(out)!r} was interrupted (its partial output: {stale}); "
            f"{str(out)!r} holds the last complete report",
            stacklevel=3,
        )
    check_target(out, force, what)
    try:
        out.resolve().parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.resolve().parent))
    except OSError as e:
        raise NNFTError(f"{what}: cannot create {str(out)!r}: {e.strerror or e}") from None
    try:
        yield tmp
        meta = {"written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **(info or {})}
        (tmp / MARKER).write_text(json.dumps(meta, default=str, indent=1))
        _replace(tmp, out, force, what)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _replace(tmp: Path, out: Path, force: bool, what: str) -> None:
    check_target(out, force, what)  # the folder may have appeared while we ran
    old = None
    if out.is_dir():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
