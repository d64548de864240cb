"""Zero raw tracebacks, part two: the bad inputs of issue 12 that gave raw tracebacks or silent
coercions (each a case that failed before), and the CLI fuzzed with generated recipes (the
catalogue's recipes with a value replaced, a key misspelt or deleted, a section added; garbage)."""

from __future__ import annotations

import contextlib
import copy
import io
import os
import tomllib
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnft_ppl
from nnft_ppl import NNFTError
from tests.fuzz_strategies import budget, count

# ---------------------------------------------------------------- the raw tracebacks of issue 12


def _known_cases():
    import nnft_ppl.deform as D
    from nnft_ppl.ensemble import ensemble_correlators
    from nnft_ppl.gp import fit_gp

    x = np.linspace(-1.0, 1.0, 3)
    small = dict(max_order=2, n_blocks=8, progress=False)
    quad = D.make_quadrature((-1.0, 1.0), n=4)
    cos = nnft_ppl.CosNet(width=2)
    return {
        "key = 2**70": lambda: ensemble_correlators(nnft_ppl.ErfNet(width=3), x, 64, 2**70, **small),
        "a batch of typed keys": lambda: ensemble_correlators(
            nnft_ppl.ErfNet(width=3), x, 64, jax.random.split(jax.random.key(0), 3), **small
        ),
        "ErfNet(sw=1e200)": lambda: nnft_ppl.ErfNet(width=3, sw=1e200).nngp_kernel(x, x),
        "width = 3.0": lambda: nnft_ppl.ErfNet(width=3.0),
        "complex x (ensemble)": lambda: ensemble_correlators(nnft_ppl.ErfNet(width=3), x + 1j, 64, 0, **small),
        "complex x (kernel)": lambda: nnft_ppl.ErfNet(width=3).nngp_kernel(x + 1j, x),
        "complex x (fit_gp)": lambda: fit_gp(nnft_ppl.ErfNet(width=3), np.linspace(-1, 1, 8) + 1j, np.arange(8.0)),
        "custom potential returning a scalar": lambda: D.deform(cos, D.Custom(lambda p: jnp.sum(p**4)), quad),
        "custom potential NaN near zero": lambda: D.deform(
            cos, D.Custom(lambda p: p**4 * jnp.log(jnp.abs(p)), name="phi^4 log|phi|"), quad
        ),
        # found by benchmarks/fuzz.py
        "LinearFeatures(width=10**30)": lambda: __import__("nnft_ppl.symmetry").symmetry.prior_ensemble(
            nnft_ppl.LinearFeatures(width=10**30), x, 64, 0
        ),
        "DeepMLP kernel at x = 1e300 (was inf/NaN)": lambda: nnft_ppl.DeepMLP(width=1).nngp_kernel(x, 1e300 * x),
        "neuron_correlators(n=1e200)": lambda: __import__("nnft_ppl.ensemble").ensemble.neuron_correlators(
            cos, x, 1e200, 0, progress=False
        ),
        "z2_test(orders=())": lambda: __import__("nnft_ppl.symmetry").symmetry.z2_test(
            __import__("nnft_ppl.symmetry").symmetry.prior_ensemble(cos, x, 64, 0), orders=()
        ),
        "a recipe whose kind is a list": lambda: __import__("nnft_ppl.recipes").recipes.load_recipe(_list_kind()),
        "prior_ensemble(key=2**70)": lambda: __import__("nnft_ppl.symmetry").symmetry.prior_ensemble(cos, x, 64, 2**70),
    }


def _list_kind():
    import tempfile

    path = Path(tempfile.mkdtemp()) / "list_kind.toml"
    path.write_text("kind = [2.7, 3.2]\n")
    return path


@pytest.mark.parametrize("case", sorted(_known_cases()))
def test_issue_12_bad_inputs_raise_nnft_error(case):
    """Each of these gave a raw traceback or a silently wrong answer before (issue 12)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning, no silent coercion
        with pytest.raises(NNFTError):
            _known_cases()[case]()


class _ReachedSampler(Exception):
    pass


def test_sample_deformed_accepts_an_int_key(monkeypatch):
    """sample_deformed(key=0) raised a raw TypeError at jax.random.split (NumPyro's convention: an
    int or a key). The sampler itself is stubbed out: the key must get through to it."""
    import nnft_ppl.deform._sample as S
    from nnft_ppl.deform import Phi4, deform, make_quadrature, sample_deformed

    def reached(*args, **kw):
        raise _ReachedSampler

    monkeypatch.setattr(S, "initialize_model", reached)
    model = deform(nnft_ppl.CosNet(width=2), Phi4(0.1), make_quadrature((-1.0, 1.0), n=4))
    with pytest.raises(_ReachedSampler):
        sample_deformed(model, np.linspace(-1, 1, 3), 0, num_warmup=10, num_samples=10, num_chains=2)


# ---------------------------------------------------------------- the CLI with generated recipes


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        return {float("inf"): "inf", -float("inf"): "-inf"}.get(v, "nan" if v != v else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(e) for e in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(e)}' for k, e in v.items()) + " }"
    raise TypeError(type(v))


def to_toml(spec: dict, prefix: str = "") -> str:
    """A minimal TOML writer (scalars and arrays, then one [table] per nested dict)."""
    lines = [f'"{k}" = {_toml_value(v)}' for k, v in spec.items() if not isinstance(v, dict)]
    for k, v in spec.items():
        if isinstance(v, dict):
            name = f'{prefix}"{k}"'
            lines += ["", f"[{name}]", to_toml(v, name + ".")]
    return "\n".join(lines)


def _recipe_specs() -> dict[str, dict]:
    folder = Path(__file__).resolve().parents[1] / "inference"
    return {p.stem: tomllib.loads(p.read_text()) for p in sorted(folder.glob("*.toml"))}


SPECS = _recipe_specs()
FUZZ_VALUES = st.one_of(
    st.integers(-3, 40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["abc", "", [2.7, 3.2], [], [1, "a"], 3.0, {"a": 1}, True, [[1.0]], "ErfNet", 10**30]),
)


def _paths(spec, prefix=()):
    for k, v in spec.items():
        yield (*prefix, k)
        if isinstance(v, dict):
            yield from _paths(v, (*prefix, k))


@st.composite
def recipes(draw) -> str:
    """A recipe of the catalogue with one value replaced, a key misspelt or deleted, a section
    added; or garbage text."""
    spec = copy.deepcopy(SPECS[draw(st.sampled_from(sorted(SPECS)))])
    op = draw(st.sampled_from(["set", "set", "set", "misspell", "delete", "section", "garbage"]))
    paths = list(_paths(spec))
    path = draw(st.sampled_from(paths))
    node = spec
    for k in path[:-1]:
        node = node[k]
    if op == "set":
        node[path[-1]] = draw(FUZZ_VALUES)
    elif op == "misspell":
        node[path[-1] + draw(st.sampled_from(["t", "_", "s"]))] = node.pop(path[-1])
    elif op == "delete":
        node.pop(path[-1])
    elif op == "section":
        spec[draw(st.sampled_from(["fitt", "params", "fit", "architecture"]))] = {"width": draw(FUZZ_VALUES)}
    else:
        return draw(st.sampled_from(["\x00\x01\x02binary", "kind = ", "[[[", "", 'kind = "bogus"']))
    return to_toml(spec)


@budget(25)
@given(recipes(), st.sampled_from([["--small"], ["--small", "--set", "n_nets=abc"], ["--set", "bad"], []]))
def test_cli_with_generated_recipes(tmp_path_factory, monkeypatch_module, text, extra):
    """`nnft run` on generated recipes: exit 0, or exit 2 with `nnft: error:`. In CI the runners
    are replaced by validation only (`load_recipe`: schema, --small, --set); `NNFT_FUZZ_RUN=1`
    (`benchmarks/fuzz.py`) runs them for real at --small size."""
    from nnft_ppl.cli import main

    d = tmp_path_factory.mktemp("fuzz")
    recipe = d / "r.toml"
    recipe.write_text(text, encoding="utf-8")
    err = io.StringIO()
    count()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = main(["run", str(recipe), "--out", str(d / "out"), "--quiet", *extra])
        except SystemExit as e:  # argparse: usage errors exit 2
            code = e.code
    assert code in (0, 2), (code, err.getvalue())
    if code == 2:
        assert "error" in err.getvalue()


@pytest.fixture(scope="module")
def monkeypatch_module():
    """Runners replaced by recipe validation alone, unless `NNFT_FUZZ_RUN=1`."""
    import nnft_ppl.recipes as R

    mp = pytest.MonkeyPatch()
    if os.environ.get("NNFT_FUZZ_RUN", "") != "1":
        mp.setattr(
            R,
            "run_recipe",
            lambda path, out, progress=True, *, overrides=(), small=False, **kw: (
                R.load_recipe(path, overrides, small) and {}
            ),
        )
    yield mp
    mp.undo()
