"""Zero raw tracebacks: property-based fuzzing of the public entry points. Every call either
returns finite results or raises `NNFTError` (the CLI: exit code 0 or 2 with `nnft: error:`).

Fixed seed (`derandomize=True`) and bounded examples; `NNFT_FUZZ_EXAMPLES` (default 1) scales
every budget (`benchmarks/fuzz.py` runs the full version, with random seeds)."""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnft_ppl
from nnft_ppl import NNFTError
from nnft_ppl.architectures import REGISTRY, make_architecture

SCALE = float(os.environ.get("NNFT_FUZZ_EXAMPLES", "1"))
RANDOM = os.environ.get("NNFT_FUZZ_RANDOM", "") == "1"


def budget(n: int):
    """Hypothesis settings: n examples (scaled), fixed seed unless the full version asks otherwise."""
    return settings(
        max_examples=max(1, int(n * SCALE)),
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# ---------------------------------------------------------------- the property


def _finite(obj) -> bool:
    """Every number in the result is finite (Datasets, trees, dicts, arrays, scalars)."""
    if isinstance(obj, xr.DataTree):
        return all(_finite(node.to_dataset()) for node in obj.subtree)
    if isinstance(obj, xr.Dataset):
        return all(_finite(v.values) for v in obj.data_vars.values())
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v) for v in obj)
    if isinstance(obj, (jax.Array, np.ndarray, float, int, np.number)):
        arr = np.asarray(obj)
        if arr.dtype.kind in "fc":
            return bool(np.all(np.isfinite(arr)))
    return True


def returns_finite_or_nnft_error(fn, *args, **kw):
    """The property: finite results or `NNFTError`; anything else (a raw traceback, a NaN) fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(*args, **kw)
        except NNFTError:
            return None
    assert _finite(out), f"{getattr(fn, '__name__', fn)} returned non-finite values"
    return out


# ---------------------------------------------------------------- strategies

BAD = st.sampled_from([None, "abc", -1, 0, float("nan"), float("inf"), -float("inf"), 1e200, 1e-300, [1, 2], True])
SCALES = st.one_of(st.floats(0.1, 3.0), BAD, st.floats(allow_nan=True, allow_infinity=True))
WIDTHS = st.one_of(st.integers(1, 6), st.sampled_from([0, -3, 3.0, 2.7, "4", 10**30, True, None]))
DIMS = st.one_of(st.just(1), st.integers(0, 3), st.sampled_from([1.0, "1", None]))


def _typed_key(i):
    return jax.random.key(i)


KEYS = st.one_of(
    st.integers(0, 2**31),
    st.sampled_from([2**70, -(2**70), -1, 2**64, "0", 1.5, None, True]),
    st.integers(0, 9).map(_typed_key),
    st.integers(0, 9).map(lambda i: jax.random.split(jax.random.key(i), 3)),
    st.integers(0, 9).map(lambda i: jax.random.key_data(jax.random.key(i))),
)


@st.composite
def points(draw, d=None, max_p=4):
    """Mostly valid (P, d) points in [-2, 2]; sometimes NaN, complex, ragged, empty, strings, 3-D."""
    d = d if d is not None else draw(st.integers(1, 2))
    p = draw(st.integers(1, max_p))
    x = np.asarray(draw(st.lists(st.floats(-2, 2), min_size=p * d, max_size=p * d))).reshape(p, d)
    kind = draw(st.sampled_from(["ok"] * 6 + ["1d", "nan", "complex", "empty", "str", "3d", "list", "huge"]))
    if kind == "1d":
        return x[:, 0]
    if kind == "nan":
        return np.where(np.arange(x.size).reshape(x.shape) == 0, np.nan, x)
    if kind == "complex":
        return x + 1j
    if kind == "empty":
        return np.zeros((0, d))
    if kind == "str":
        return "oops"
    if kind == "3d":
        return x[None]
    if kind == "list":
        return x.tolist()
    if kind == "huge":
        return x * 1e300
    return x


@st.composite
def architectures(draw):
    """A zoo architecture from the registry with fuzzed width, d and scales (or the bad-input error)."""
    name = draw(st.sampled_from(sorted(REGISTRY)))
    cls = REGISTRY[name]
    params = {"width": draw(WIDTHS), "d": draw(DIMS)}
    for f in ("sw", "sb", "sa"):
        if f in cls.__dataclass_fields__ and draw(st.booleans()):
            params[f] = draw(SCALES)
    if draw(st.integers(0, 9)) == 0:
        params["nonsense"] = 1.0
    return name, params


def build(name, params):
    """make_architecture, or None when it (correctly) refuses the parameters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return make_architecture(name, **params)
        except NNFTError:
            return None


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
        "prior_ensemble(key=2**70)": lambda: __import__("nnft_ppl.symmetry").symmetry.prior_ensemble(cos, x, 64, 2**70),
    }


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


# ---------------------------------------------------------------- architectures and kernels


@budget(40)
@given(architectures(), points(max_p=3), points(max_p=3))
def test_architectures_and_kernels(spec, x1, x2):
    arch = build(*spec)
    if arch is None:
        return
    assert isinstance(arch.d, int) and not isinstance(arch.d, bool)
    if hasattr(arch, "width"):
        assert type(arch.width) is int and arch.width >= 1, arch.width  # never a float width
    returns_finite_or_nnft_error(arch.nngp_kernel, x1, x2)


# ---------------------------------------------------------------- estimators and exact theory


@budget(12)
@given(
    architectures(),
    points(max_p=3),
    st.one_of(st.integers(16, 200), BAD, st.sampled_from([2.5, 100.0])),
    KEYS,
    st.one_of(st.integers(1, 4), BAD),
)
def test_ensemble_correlators(spec, x, n_nets, key, max_order):
    from nnft_ppl.ensemble import ensemble_correlators

    arch = build(*spec)
    if arch is None:
        return
    returns_finite_or_nnft_error(
        ensemble_correlators, arch, x, n_nets, key, max_order=max_order, n_blocks=8, progress=False
    )


@budget(10)
@given(architectures(), points(max_p=3), st.one_of(st.integers(64, 512), BAD), KEYS, st.lists(WIDTHS, max_size=2))
def test_neuron_correlators(spec, x, n, key, widths):
    from nnft_ppl.ensemble import neuron_correlators

    arch = build(*spec)
    if arch is None:
        return
    returns_finite_or_nnft_error(
        neuron_correlators, arch, x, n, key, widths=widths or None, max_order=4, n_blocks=8, progress=False
    )


@budget(15)
@given(architectures(), points(max_p=3), st.one_of(st.integers(1, 7), BAD, st.just(4.0)), st.one_of(st.none(), WIDTHS))
def test_exact_connected(spec, x, order, width):
    from nnft_ppl.theory import exact_connected

    arch = build(*spec)
    if arch is None:
        return
    returns_finite_or_nnft_error(exact_connected, arch, x, order, width=width)


# ---------------------------------------------------------------- GPs and Bayesian networks


@st.composite
def targets(draw, n=8):
    kind = draw(st.sampled_from(["ok", "ok", "ok", "constant", "huge", "tiny", "nan", "short", "str", "2d"]))
    y = np.asarray(draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    return {
        "ok": y,
        "constant": np.full(n, 2.5),
        "huge": 1e8 * y,
        "tiny": 1e-12 * y,
        "nan": np.r_[np.nan, y[1:]],
        "short": y[:3],
        "str": "y",
        "2d": np.stack([y, y], 1),
    }[kind]


@budget(12)
@given(
    st.sampled_from(["ErfNet", "ReLUNet", "CosNet", "GaussNet"]),
    points(d=1, max_p=8).filter(lambda x: not isinstance(x, np.ndarray) or x.size != 8 or True),
    targets(),
    st.one_of(st.none(), SCALES),
    st.sampled_from([0, 0, 1, -1, 2.5, "10"]),
    st.sampled_from(["lbfgs", "scipy", "adam", "auto", "sparse", "exact", "bfgs"]),
)
def test_fit_gp(name, x, y, noise, num_iters, which):
    from nnft_ppl.gp import fit_gp

    x = np.linspace(-1, 1, 8) if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape == (8, 1) else x
    kw = {"method": which} if which in ("auto", "sparse", "exact") else {"optimizer": which}
    if which == "sparse":
        kw["num_inducing"] = 4
    fit = returns_finite_or_nnft_error(
        fit_gp, make_architecture(name, width=3), x, y, noise=noise, num_iters=num_iters, **kw
    )
    if fit is not None:
        pred = fit.predict(np.linspace(-1.5, 1.5, 3))
        assert _finite(pred) and np.isfinite(fit.log_marginal_likelihood)


def _one_bad(draw, good: dict, bad: dict) -> dict:
    """`good` with exactly one argument replaced by a bad value (so no sampling runs)."""
    k = draw(st.sampled_from(sorted(bad)))
    return {**good, k: draw(bad[k])}


@budget(15)
@given(st.data())
def test_run_nuts_bad_arguments(data):
    from nnft_ppl.gp import run_nuts

    x = np.linspace(-1, 1, 6)
    good = dict(x=x, y=np.sin(3 * x), x_test=None, num_warmup=5, num_samples=5, num_chains=2, rng_key=0)
    bad = {
        "x": points(d=2),
        "y": st.sampled_from(["y", np.ones((6, 2)), np.r_[np.nan, np.ones(5)], np.ones(4)]),
        "x_test": st.sampled_from([np.ones((2, 2)), "oops", np.array([np.inf]), np.ones(3) + 1j]),
        "num_warmup": st.sampled_from([0, -1, 2.5, "5", None]),
        "num_samples": st.sampled_from([0, -1, 2.5, "5", None]),
        "num_chains": st.sampled_from([1, 0, 2.5, "2"]),
        "rng_key": st.sampled_from([2**70, -(2**70), "0", 1.5, None, jax.random.split(jax.random.key(0), 2)]),
        "target_accept_prob": st.sampled_from([0.1, 1.0, "high", float("nan"), None]),
        "noise": st.sampled_from([0.0, -1.0, float("nan"), "a"]),
        "chain_method": st.sampled_from(["threads", 3]),
    }
    kw = _one_bad(data.draw, good, bad)
    with pytest.raises(NNFTError):
        run_nuts(nnft_ppl.ErfNet(width=2), kw.pop("x"), kw.pop("y"), kw.pop("x_test"), **kw)


# ---------------------------------------------------------------- interacting theories


def _potentials():
    from nnft_ppl.deform import Custom, DoubleWell, Mass, Phi3, Phi4, Phi6

    good = st.floats(0.01, 2.0)
    return st.one_of(
        st.builds(Phi4, st.one_of(good, SCALES)),
        st.builds(Phi6, st.one_of(good, SCALES)),
        st.builds(Phi3, st.one_of(good, SCALES)),
        st.builds(Mass, st.one_of(good, SCALES)),
        st.builds(DoubleWell, st.one_of(st.just(-1.0), SCALES), st.one_of(good, SCALES)),
        st.sampled_from(
            [
                Custom(lambda p: jnp.sum(p**4)),  # a scalar, not elementwise
                Custom(lambda p: p**4 * jnp.log(jnp.abs(p))),  # NaN at zero
                Custom(lambda p: p**2),
                Custom(lambda p: jnp.ones(3)),  # wrong shape
            ]
        ),
    )


def _safe(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except NNFTError:
        return None


@budget(20)
@given(st.data())
def test_potentials_and_deformed_models(data):
    """Constructing potentials and deformed models: NNFTError or a model whose action is finite."""
    from nnft_ppl.deform import deform, make_quadrature

    pot = _safe(lambda: data.draw(_potentials()))
    if pot is None:
        return
    quad = _safe(make_quadrature, data.draw(st.sampled_from([(-1.0, 1.0), (1.0, -1.0), "box", (0.0, 0.0)])), n=4)
    if quad is None:
        return
    model = returns_finite_or_nnft_error(deform, nnft_ppl.CosNet(width=2), pot, quad)
    if model is not None:
        returns_finite_or_nnft_error(pot, jnp.linspace(-3.0, 3.0, 7))


@budget(8)
@given(st.data())
def test_sample_deformed_bad_arguments(data):
    from nnft_ppl.deform import Phi4, deform, make_quadrature, sample_deformed

    model = deform(nnft_ppl.CosNet(width=2), Phi4(0.1), make_quadrature((-1.0, 1.0), n=4))
    good = dict(x=np.linspace(-1, 1, 3), key=jax.random.key(0), num_warmup=5, num_samples=5, num_chains=2)
    bad = {
        "x": st.sampled_from(["oops", np.ones((3, 2)), np.array([np.nan, 0.0]), np.zeros((0, 1)), np.ones(3) + 1j]),
        "key": st.sampled_from([2**70, "0", 1.5, None, jax.random.split(jax.random.key(0), 2)]),
        "num_samples": st.sampled_from([0, -1, 2.5, "5"]),
        "num_chains": st.sampled_from([0, 2.5, "2"]),
        "target_accept_prob": st.sampled_from([0.0, 1.5, "high"]),
        "dtype": st.sampled_from(["float16", "int32", 3]),
    }
    kw = _one_bad(data.draw, good, bad)
    with pytest.raises(NNFTError):
        sample_deformed(model, kw.pop("x"), kw.pop("key"), **kw)


# ---------------------------------------------------------------- symmetry tests


@budget(15)
@given(st.data())
def test_symmetry_tests(data):
    from nnft_ppl.symmetry import permutation_test, prior_ensemble, z2_test

    arch = build(*data.draw(architectures()))
    if arch is None:
        return
    x = data.draw(points(max_p=3))
    tree = returns_finite_or_nnft_error(prior_ensemble, arch, x, data.draw(st.sampled_from([64, 0, 2.5, "n"])), 0)
    if tree is None:
        return
    orders = data.draw(st.sampled_from([(1, 3), (1,), (2,), (), "odd"]))
    res = returns_finite_or_nnft_error(z2_test, tree, orders=orders)
    if res is not None:
        assert 0.0 <= res.p_value <= 1.0
    returns_finite_or_nnft_error(permutation_test, tree)


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
    import tomllib
    from pathlib import Path

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
    spec = __import__("copy").deepcopy(SPECS[draw(st.sampled_from(sorted(SPECS)))])
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
