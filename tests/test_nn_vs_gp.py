"""Networks converge to their NNGP as the width grows; recipes and the notebook run."""

import os
from pathlib import Path

import numpy as np

import nnft_ppl  # noqa: F401  (float64)
from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import compare_widths, plot_comparison, synthetic
from nnft_ppl.recipes import load_recipe, run_recipe
from nnft_ppl.stats import se_threshold

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (4, 16, 64)


def test_networks_approach_their_gp(tmp_path):
    """One comparison (a single test, so parallel workers never repeat it)."""
    d = synthetic(20, noise=0.5, seed=1)
    cmp = compare_widths(
        ErfNet(), d, WIDTHS, n_grid=10, fit_iters=100, init_noise=0.1, num_warmup=300, num_samples=300, seed=0
    )
    # every NUTS run converged cleanly
    for r in cmp.rows:
        assert r["divergences"] == 0, r
        assert r["rhat_max"] <= 1.01, r
    # the W2 distance falls at each step, each step significant: difference > threshold x combined
    # jackknife SE (16 batches per run)
    w2 = np.array([r["w2"] for r in cmp.rows])
    se = np.array([r["w2_se"] for r in cmp.rows])
    assert np.all(np.diff(w2) < 0), w2
    z = se_threshold(len(WIDTHS) - 1, n_sigma=2.0, dof=15)
    assert np.all(-np.diff(w2) > z * np.sqrt(se[:-1] ** 2 + se[1:] ** 2)), (w2, se)
    # ELPD, Pareto-k, table and plot
    for r in cmp.rows:
        assert np.isfinite(r["elpd"]) and r["elpd_se"] > 0 and r["pareto_k_max"] < 0.7
    assert abs(cmp.rows[-1]["elpd"] - cmp.gp_elpd["elpd"]) < 3 * cmp.gp_elpd["se"]
    assert "| GP (inf) |" in cmp.table()
    plot_comparison(cmp, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert cmp.nets[4].attrs["dataset"].startswith("synthetic") and cmp.nets[4].attrs["y_scale"] == 1.0


def test_recipes(tmp_path):
    assert load_recipe(ROOT / "inference" / "nn_vs_gp.toml")["kind"] == "nn_vs_gp"
    spec = ROOT / "inference" / "gp_fit.toml"
    assert load_recipe(spec)["kind"] == "gp_fit"
    small = tmp_path / "small.toml"
    small.write_text(
        'kind = "gp_fit"\narchitectures = ["ErfNet"]\n[fit]\nnum_iters = 20\n[datasets.diabetes_bmi]\nn = 30\n'
    )
    summary = run_recipe(small, tmp_path / "out", progress=False)
    assert "diabetes_bmi/ErfNet" in summary
    assert (tmp_path / "out" / "summary.md").is_file() and (tmp_path / "out" / "gp_diabetes_bmi_ErfNet.nc").is_file()


def test_notebook_executes():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "02_nn_vs_gp.ipynb", as_version=4)
    os.environ["NNFT_SMALL"] = "1"
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    assert any("W2" in str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
