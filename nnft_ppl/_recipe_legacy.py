"""Old recipe spellings, read for one release with a `DeprecationWarning` and rewritten to the schema's.

The one spelling: the architecture is a table `{ name, params }` (`[architecture]`, or `architecture =
{ ... }` inside each `[[ensembles]]` entry, or a list `architectures = [{ name = ... }]`), and the seed
is `seed` (top level, or per ensemble entry).
"""

from __future__ import annotations

import warnings

_ARCH_KEYS = ("name", "params")


def _arch_table(entry: dict, notes: list[str], where: str) -> None:
    """`architecture = "X"` + sibling `params`, or `[architecture]` with flat parameters -> `{name, params}`."""
    a = entry.get("architecture")
    if isinstance(a, str):
        entry["architecture"] = {"name": a, "params": entry.pop("params", {})}
        notes.append(f"{where}architecture = {a!r} (use architecture = {{ name = {a!r}, params = {{...}} }})")
    elif isinstance(a, dict):
        flat = {k: v for k, v in a.items() if k not in _ARCH_KEYS}
        if flat:
            entry["architecture"] = {k: v for k, v in a.items() if k in _ARCH_KEYS}
            entry["architecture"].setdefault("params", {}).update(flat)
            notes.append(f"flat parameters {sorted(flat)} in [{where}architecture] (put them in params)")


def _seed(table: dict, key: str, spec: dict, notes: list[str], where: str) -> None:
    if isinstance(table, dict) and key in table:
        target = spec if spec is not None else table
        if "seed" not in target:
            target["seed"] = table.pop(key)
            notes.append(f"{where}{key} (use seed{' at the top level' if spec is not None else ''})")


def modernise(spec: dict, name: str = "recipe") -> dict:
    """`spec` in the one spelling; warns once, listing every old spelling found."""
    notes: list[str] = []
    if "ensemble" in spec and "ensembles" not in spec:
        spec["ensembles"] = spec.pop("ensemble")
        notes.append("[[ensemble]] (use [[ensembles]])")
    for i, e in enumerate(spec.get("ensembles", []) if isinstance(spec.get("ensembles"), list) else []):
        if isinstance(e, dict):
            _arch_table(e, notes, f"ensembles[{i}].")
            _seed(e, "key", None, notes, f"ensembles[{i}].")
    if "architecture" in spec:
        _arch_table(spec, notes, "")
    archs = spec.get("architectures")
    if isinstance(archs, list) and any(isinstance(a, str) for a in archs):
        spec["architectures"] = [{"name": a} if isinstance(a, str) else a for a in archs]
        notes.append('architectures = ["X", ...] (use architectures = [{ name = "X" }, ...])')
    for section in ("sampler", "nuts"):
        _seed(spec.get(section), "seed", spec, notes, f"{section}.")
    _seed(spec.get("power"), "key", None, notes, "power.")
    if notes:
        warnings.warn(f"{name}: old recipe spelling, read this release only: {'; '.join(notes)}", DeprecationWarning, 3)
    return spec
