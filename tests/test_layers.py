"""The house rules (docs/architecture.md), checked by parsing imports, and the one calling
convention for keys, dtypes and errors."""

from __future__ import annotations

import ast
import functools
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft_ppl
from nnft_ppl import NNFTError, NNFTNumericalError, as_dtype, as_key

ROOT = pathlib.Path(nnft_ppl.__file__).resolve().parent
#: layer 0: plain helpers every package may use
FOUNDATION = {
    "_errors",
    "_keys",
    "_x64",
    "_validate",
    "_combinatorics",
    "_tensors",
    "_tails",
    "stats",
    "_atomic",
    "_conventions",
    "_cache",
    "_distributed",
}
#: layers 1..3; layer 4 is the recipes/CLI layer (recipes, cli, schemas and every `recipes.py`/`cli.py`)
PACKAGES = {
    "architectures": 1,
    "ensemble": 2,
    "theory": 2,
    "gp": 3,
    "deform": 3,
    "symmetry": 3,
    "width_scaling": 3,
    "report": 3,
    "dynamics": 3,  # training dynamics: NTKs, parametrisations, trained ensembles (issue 14)
    "action": 3,  # actions from ensembles (issue 15)
    "expressivity": 3,  # trainable KANs and the UAT study (issue 14)
}
TOP = {"recipes", "cli", "_schema", "_recipe_legacy", "_stages"}
RUNNERS = {"width_scaling.recipe"}  # the width-scaling experiment's runner (registers a recipe kind)


def _name(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _layer(mod: str) -> tuple[int, str]:
    parts = [p for p in mod.split(".") if p != "__init__"]
    if not parts:
        return 4, "nnft_ppl"
    head = parts[0]
    if head in FOUNDATION:
        return 0, head
    if head in TOP or parts[-1] in ("recipes", "cli") or ".".join(parts) in RUNNERS:
        return 4, head
    assert head in PACKAGES, f"{mod}: a new top-level module or package; give it a layer in docs/architecture.md"
    return PACKAGES[head], head


def _imports(path: pathlib.Path):
    pkg = _name(path).split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = pkg[: len(pkg) - (node.level - 1)]
            if node.module:
                yield ".".join(base + node.module.split("."))
            else:
                yield from (".".join(base + [a.name]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nnft_ppl."):
            yield node.module.removeprefix("nnft_ppl.")
        elif isinstance(node, ast.Import):
            yield from (a.name.removeprefix("nnft_ppl.") for a in node.names if a.name.startswith("nnft_ppl."))


@functools.cache
def _edges() -> tuple[tuple[str, str], ...]:
    return tuple(
        (_name(path), tgt) for path in sorted(ROOT.rglob("*.py")) for tgt in _imports(path) if tgt != "__version__"
    )


def test_imports_only_go_down_the_layers():
    """architectures -> ensemble/theory -> gp/deform/symmetry/report -> recipes/CLI: a module imports
    only from its own package, a lower layer, or the foundation; ensemble and theory never import
    each other (theory is exact, ensemble is Monte Carlo: each stands alone)."""
    bad = []
    for src, tgt in _edges():
        (ls, ps), (lt, pt) = _layer(src), _layer(tgt)
        if ps == pt or lt == 0:
            continue
        if lt > ls or (lt == ls and ls < 3):
            bad.append(f"{src} (layer {ls}) -> {tgt} (layer {lt})")
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


def test_analysis_packages_have_no_cycles():
    graph: dict[str, set[str]] = {}
    for src, tgt in _edges():
        (ls, ps), (lt, pt) = _layer(src), _layer(tgt)
        if ls == lt == 3 and ps != pt:
            graph.setdefault(ps, set()).add(pt)

    def reaches(a, b, seen=()):
        return any(n == b or (n not in seen and reaches(n, b, seen + (n,))) for n in graph.get(a, ()))

    assert not [p for p in graph if reaches(p, p)], graph


def test_the_layer_test_has_power():
    """A theory module importing ensemble would be caught."""
    (ls, _), (lt, _) = _layer("theory._exact"), _layer("ensemble._basis")
    assert lt == ls < 3


def test_key_normaliser():
    k = as_key(7)
    assert jnp.issubdtype(k.dtype, jax.dtypes.prng_key) and k.shape == ()
    np.testing.assert_array_equal(jax.random.key_data(as_key(jax.random.PRNGKey(7))), jax.random.key_data(k))
    assert as_key(k) is k and as_key(np.int64(7)).shape == ()
    for bad in (2**70, -(2**64), jax.random.split(jax.random.key(0), 3), "abc", True, 1.5, None):
        with pytest.raises(NNFTError, match="key"):
            as_key(bad)


def test_dtype_normaliser():
    for spelling in ("float32", np.float32, jnp.float32, np.dtype("float32")):
        assert as_dtype(spelling) == np.dtype(np.float32)
    assert as_dtype(jnp.float64) == np.dtype(np.float64)
    for bad in ("float16", jnp.int32, "abc", None, int):
        with pytest.raises(NNFTError, match="dtype"):
            as_dtype(bad)


def test_error_types_are_distinct():
    """Bad input (NNFTError, a ValueError) and numerical failure (NNFTNumericalError) are caught apart."""
    assert issubclass(NNFTError, ValueError) and issubclass(NNFTNumericalError, ArithmeticError)
    assert not issubclass(NNFTNumericalError, NNFTError) and not issubclass(NNFTError, NNFTNumericalError)
