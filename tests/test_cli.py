"""The `nnft` command line: strict recipe schemas, `--set`/`--small`, atomic reports, `nnft: error:` for bad input."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from nnft_ppl import NNFTError
from nnft_ppl import recipes as R
from nnft_ppl.cli import main

TINY = (
    'kind = "width_scaling"\nwidths = [2, 3, 4]\nn_nets = 4000\nn_neurons = 1024\n'
    '[[ensembles]]\narchitecture = {{ name = "{arch}" }}\nx = [0.2, 0.7, 1.2]\n'
)
GP = (
    'kind = "gp_fit"\narchitectures = [{ name = "ErfNet" }]\nn_grid = 8\n'
    "[fit]\nnum_iters = 5\n[datasets.synthetic]\nn = 12\n"
)


def _err(capsys) -> str:
    return capsys.readouterr().err


def _write(tmp_path, text: str, name: str = "r.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text, named",
    [
        (GP + "[fitt]\nnum_iters = 3\n", "'fitt'"),
        (GP.replace("n_grid", "n_gird"), "'n_gird'"),
        (GP.replace("num_iters", "num_iter"), "'fit.num_iter'"),
        (GP.replace("num_iters = 5", 'num_iters = "5"'), "fit.num_iters"),
        (TINY.format(arch="ReLUNet").replace("[2, 3, 4]", '"abc"'), "widths"),
        (TINY.format(arch="ReLUNet").replace("[2, 3, 4]", "[2.7, 3.2]"), "widths[0]"),
        (TINY.format(arch="ReLUNet").replace("[0.2, 0.7, 1.2]", '"oops"'), "ensembles[0].x"),
        (TINY.format(arch="ReLUNet").replace('"ReLUNet" }', '"ReLUNet", params = { width = 3 } }'), "params.width"),
        (TINY.format(arch="NoNet"), "architecture.name"),
    ],
)
def test_bad_recipe_is_refused_before_any_work(tmp_path, capsys, text, named):
    out = tmp_path / "out"
    assert main(["run", str(_write(tmp_path, text)), "--out", str(out), "--quiet"]) == 2
    err = _err(capsys)
    assert err.startswith("nnft: error: ") and named in err and "Traceback" not in err, err
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))


def test_unknown_key_names_the_allowed_ones(tmp_path, capsys):
    assert main(["run", str(_write(tmp_path, GP.replace("num_iters", "num_iter"))), "--out", str(tmp_path / "o")]) == 2
    assert "allowed: ['fit_noise'" in _err(capsys)


def test_binary_and_missing_files(tmp_path, capsys):
    (tmp_path / "bin.toml").write_bytes(bytes(range(256)))
    assert main(["run", str(tmp_path / "bin.toml")]) == 2
    assert "not a text file" in _err(capsys)
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "recipe" in _err(capsys)


def test_out_that_is_a_file_or_unwritable(tmp_path, capsys):
    recipe = str(_write(tmp_path, TINY.format(arch="ReLUNet")))
    (tmp_path / "f").write_text("x")
    assert main(["run", recipe, "--out", str(tmp_path / "f"), "--quiet"]) == 2
    assert "is a file" in _err(capsys)
    assert main(["run", recipe, "--out", str(tmp_path / "f" / "sub"), "--quiet"]) == 2
    assert "nnft: error: --out" in _err(capsys)
    assert main(["run", recipe, "--out", "/proc/nnft_report", "--quiet"]) == 2
    assert "nnft: error: --out" in _err(capsys)


def test_symmetry_refuses_damaged_files_and_other_kinds(tmp_path, capsys):
    (tmp_path / "garbage.nc").write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(300))
    assert main(["symmetry", str(tmp_path / "garbage.nc"), "--out", str(tmp_path / "a")]) == 2
    assert "cannot read" in _err(capsys)
    ds = xr.Dataset({"phi": (("draw", "point"), np.zeros((4, 2)))})
    ds.to_netcdf(tmp_path / "good.nc")
    data = (tmp_path / "good.nc").read_bytes()
    (tmp_path / "cut.nc").write_bytes(data[: len(data) // 2])
    assert main(["symmetry", str(tmp_path / "cut.nc"), "--out", str(tmp_path / "b")]) == 2
    assert "nnft: error: source" in _err(capsys)
    assert main(["symmetry", str(_write(tmp_path, GP)), "--out", str(tmp_path / "c"), "--quiet"]) == 2
    assert "kind is 'gp_fit'" in _err(capsys)
    assert main(["symmetry", str(tmp_path / "good.nc"), "--out", str(tmp_path / "c"), "--small"]) == 2
    assert "results file" in _err(capsys)
    assert not any((tmp_path / n).exists() for n in "abc")


def test_set_overrides_any_value_and_small_shrinks(tmp_path):
    spec = R.load_recipe("gp_fit", ["fit.num_iters=7", 'fit.optimizer="adam"', "datasets.synthetic.n=15"])
    assert spec["fit"]["num_iters"] == 7 and spec["fit"]["optimizer"] == "adam"
    assert spec["datasets"]["synthetic"]["n"] == 15
    spec = R.load_recipe("width_scaling", ["ensembles.*.x=[0.1, 0.2]", "widths=[2, 5]"])
    assert [e["x"] for e in spec["ensembles"]] == [[0.1, 0.2]] * 3 and spec["widths"] == [2, 5]
    for bad in ("fit.num_iters", "=3", "fit..x=1"):
        with pytest.raises(NNFTError, match="--set"):
            R.parse_override(bad)
    for path in sorted(Path(str(R.recipes_folder())).glob("*.toml")):
        full, small = R.load_recipe(path), R.load_recipe(path, small=True)
        kind = R.recipe_kinds()[full["kind"]]
        assert kind.small and small != full, path.name


def test_set_and_small_run_end_to_end(tmp_path):
    out = tmp_path / "gp"
    sets = ['architectures=[{ name = "ErfNet" }]', "datasets.diabetes_bmi.n=12", "fit.num_iters=3"]
    assert main(["run", "gp_fit", "--small", "--out", str(out), "--quiet", *sum((["--set", s] for s in sets), [])]) == 0
    ds = xr.open_dataset(out / "gp_synthetic_ErfNet.nc")
    assert ds.sizes["point"] == 12 and ds.sizes["test_point"] == 8  # --small: 12 points, an 8-point grid
    assert not (out / "gp_synthetic_ReLUNet.nc").exists()  # --set: only ErfNet
    assert (out / "gp_fit_synthetic.png").stat().st_size > 1000 and "gp_fit_synthetic.png" in (
        out / "summary.md"
    ).read_text()


def _kind(monkeypatch, name: str, run) -> None:
    """Register a throwaway recipe kind (no compute: the report mechanics alone)."""
    R.recipe_kinds()  # the built-in kinds first, then the throwaway one
    schema = R.Table({"label": R.Str()}).extend(**R.COMMON)
    monkeypatch.setitem(R._KINDS, name, R.RecipeKind(name, run, schema, {}, "test kind"))


def _plots(spec, out, progress):
    (Path(out) / f"scaling_{spec['label']}.png").write_bytes(b"png")
    (Path(out) / "summary.md").write_text(spec["label"])
    return {}


def test_reports_are_atomic_never_mixed(tmp_path, monkeypatch, capsys):
    _kind(monkeypatch, "plots", _plots)
    out = tmp_path / "rep"
    erf = str(_write(tmp_path, 'kind = "plots"\nlabel = "ErfNet"\n', "erf.toml"))
    relu = str(_write(tmp_path, 'kind = "plots"\nlabel = "ReLUNet"\n', "relu.toml"))
    assert main(["run", erf, "--out", str(out), "--quiet"]) == 0
    assert main(["run", relu, "--out", str(out), "--quiet"]) == 2
    assert "--force" in _err(capsys) and (out / "summary.md").read_text() == "ErfNet"
    assert main(["run", relu, "--out", str(out), "--quiet", "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".nnft_report.json", "scaling_ReLUNet.png", "summary.md"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rep.")]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main(["run", relu, "--out", str(tmp_path / "mine"), "--quiet", "--force"]) == 2
    assert "not an nnft report" in _err(capsys) and (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_a_failed_run_leaves_the_old_report_intact(tmp_path, monkeypatch, capsys):
    _kind(monkeypatch, "plots", _plots)
    out = tmp_path / "rep"
    assert main(["run", str(_write(tmp_path, 'kind = "plots"\nlabel = "old"\n')), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    seen: list = []

    def crash(exc):
        def run(spec, tmp, progress):
            seen.append(sorted(p.name for p in out.iterdir()))
            _plots({"label": "new"}, tmp, progress)
            raise exc

        return run

    crash_recipe = str(_write(tmp_path, 'kind = "crash"\n', "crash.toml"))
    _kind(monkeypatch, "crash", crash(NNFTError("bad value")))
    assert main(["run", crash_recipe, "--out", str(out), "--force"]) == 2
    assert _err(capsys) == "nnft: error: bad value\n"  # an NNFTError never shows a traceback
    _kind(monkeypatch, "crash", crash(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):  # an unexpected exception does (a bug report)
        main(["run", crash_recipe, "--out", str(out), "--force"])
    assert seen[0] == sorted(before)  # while the runner ran, the old report was complete in place
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_old_spellings_read_with_a_warning(tmp_path):
    new = (
        'kind = "symmetry"\n[[ensembles]]\nname = "c"\narchitecture = {{ name = "CosNet", params = {{ width = 3 }} }}\n'
    )
    old = 'kind = "symmetry"\n[[ensemble]]\nname = "c"\narchitecture = "CosNet"\nparams = { width = 3 }\n'
    specs = []
    for text, extra in ((new.format(), "n = 10\nseed = 4\n"), (old, "n = 10\nkey = 4\n")):
        p = _write(tmp_path, text + extra, f"s{len(specs)}.toml")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            specs.append(R.load_recipe(p))
        assert bool([x for x in w if issubclass(x.category, DeprecationWarning)]) == (text == old)
    assert specs[0] == specs[1]


def test_recipes_command_lists_each_recipe(capsys):
    assert main(["recipes"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = sorted(p.stem for p in Path(str(R.recipes_folder())).glob("*.toml"))
    assert [ln.split()[0] for ln in lines] == names and all(len(ln.split()) > 2 for ln in lines)
    kinds = {
        "width_scaling",
        "gp_fit",
        "nn_vs_gp",
        "deform_phi4",
        "double_well",
        "symmetry",
        "training_dynamics",
        "running_coupling",
        "predictive_comparison",
    }
    assert set(R.recipe_kinds()) == kinds


def test_plot_functions_return_their_figure_and_take_ax():
    import matplotlib.pyplot as plt

    from nnft_ppl.deform import _plotting as P

    rows = [
        {
            "lam": lam,
            "phi2": 1.0 - 0.1 * lam,
            "free": 1.0,
            "phi2_se": 0.01,
            "first_order": 1.0 - 0.09 * lam,
            "g4c_measured": np.full((2, 2), -lam),
            "g4c_first_order": np.full((2, 2), -lam),
            "g4c_se": np.full((2, 2), 0.1),
            "ess_per_s": 10.0,
        }
        for lam in (0.1, 0.5)
    ]
    pair = [{"lam": r["lam"], "deviation": 0.01, "phi2_shift_se": 0.005} for r in rows]
    rw = [{"ess_per_s": 100.0}, {"ess_per_s": 50.0}]
    for fn, args in (
        (P.plot_phi2_shift, (rows,)),
        (P.plot_deviation, (rows, pair)),
        (P.plot_g4c, (rows,)),
        (P.plot_ess_rate, (rows, rw, [0.1, 0.5])),
    ):
        fig, ax = plt.subplots()
        assert fn(*args, ax=ax) is fig and ax.get_xlabel() and ax.get_title()
        assert fn(*args).axes, fn.__name__
        plt.close("all")


# A run killed with SIGKILL leaves the old report intact and the next run says so:
# tests/test_resume.py::test_a_killed_run_leaves_the_old_report_intact (it shares that module's killed
# `nnft run` subprocess: one Python + JAX start for both checks).


def test_runner_modules_are_imported_explicitly(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "nnft_ppl.gp.recipes", None)  # a runner module that fails to import
    with pytest.raises(ImportError):
        R.recipe_kinds()  # is an error, not a kind silently missing


def _toml_values():
    from hypothesis import strategies as st

    scalar = st.one_of(
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.text(max_size=5),
    )
    return st.recursive(
        scalar,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=6,
    )


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(value, "nan" if value != value else repr(value))
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)


def test_fuzzed_overrides_are_accepted_or_refused_cleanly():
    """Any `--set` on any shipped recipe either validates or is an `NNFTError`, never another exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    names = sorted(p.stem for p in Path(str(R.recipes_folder())).glob("*.toml"))
    keys = st.sampled_from(
        [
            "seed",
            "widths",
            "n_nets",
            "fit.num_iters",
            "fit.noise",
            "architecture.params.width",
            "architecture.name",
            "ensembles.0.x",
            "ensembles.0.architecture",
            "ensembles.*.n",
            "sampler.num_chains",
            "scan.lam",
            "datasets.synthetic.n",
            "quadrature.box",
            "power.mu",
            "n_grid",
            "alpha",
            "nuts.num_warmup",
            "x.y",
        ]
    )

    @settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(names), keys, _toml_values())
    def check(name, key, value):
        try:
            spec = R.load_recipe(name, [f"{key}={_toml(value)}"])
        except NNFTError:
            return
        assert isinstance(spec, dict) and spec["kind"]

    R.recipe_kinds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check()


def test_symmetry_plots_have_descriptive_names(tmp_path):
    from nnft_ppl.symmetry import SymmetryResult
    from nnft_ppl.symmetry.report import write_report

    one = np.ones(3)

    def result(name, extra):
        return SymmetryResult(name, one, one, one, one, 1.0, 0.5, 1e-4, True, 3, 100.0, "zero", "", extra)

    rp = result("reflection positivity (kernel)", {"eigenvalues": one, "eigenvalues_se": one})
    cl = result("cluster decomposition", {"r": one, "g2c": one, "g2c_se": one, "c4": one, "c4_se": one})
    write_report({"ErfNet": [result("Z2: phi -> -phi", {}), rp, cl]}, tmp_path)
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["ErfNet_cluster_decomposition.png", "ErfNet_reflection_positivity_kernel.png"]
    assert all(f"]({p})" in (tmp_path / "summary.md").read_text() for p in pngs)
