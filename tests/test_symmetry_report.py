"""The report: CLI on a recipe and on a results file, and the notebook (executed, NNFT_SMALL=1)."""

from pathlib import Path

import jax
import numpy as np
import xarray as xr
from arviz_conventions import check_tree

import nnft_ppl as nf
from nnft_ppl import symmetry as S
from nnft_ppl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_cli_recipe_and_results_file(tmp_path):
    recipe = tmp_path / "sym.toml"
    recipe.write_text(
        'kind = "symmetry"\n[[ensembles]]\nname = "cos"\n'
        'architecture = { name = "CosNet", params = { width = 30, d = 1 } }\nn = 300\nseed = 0\n'
    )
    assert main(["symmetry", str(recipe), "--out", str(tmp_path / "rep")]) == 0
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "| translation" in summary and "reflection positivity" in summary
    assert list((tmp_path / "rep").glob("*.png"))
    back = xr.open_datatree(tmp_path / "rep" / "cos.nc")
    assert "symmetry" in back.children
    check_tree(back)  # i.i.d. draws in `prior`, point coordinates, constant_data, params and version
    assert back.attrs["arch_width"] == 30 and "x" in back["constant_data"].data_vars
    # a results file (e.g. from another subpackage): data-only tests
    tree = S.prior_ensemble(nf.CosNet(width=30), np.array([[0.2], [0.9]]), 300, jax.random.PRNGKey(1))
    check_tree(tree, plots=False)
    assert tree["prior"]["phi"].sel(point=0.9).shape == (1, 300)  # .sel by position
    tree.to_netcdf(tmp_path / "res.nc")
    assert main(["symmetry", str(tmp_path / "res.nc"), "--out", str(tmp_path / "rep2")]) == 0
    assert "Z2" in (tmp_path / "rep2" / "summary.md").read_text()
    assert main(["symmetry", str(tmp_path / "missing.nc")]) == 2
