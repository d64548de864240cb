"""The zoo catalogue and the recipes: every card and recipe loads; `nnft` runs end to end."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from arviz_conventions import check_tree

from nnft_ppl import NNFTError
from nnft_ppl.architectures import REGISTRY
from nnft_ppl.cli import main
from nnft_ppl.recipes import cards_folder, load_card, load_recipe, recipe_kinds, recipes_folder, zoo

CARDS = sorted(p for p in Path(str(cards_folder())).glob("*.toml"))
RECIPES = sorted(p for p in Path(str(recipes_folder())).glob("*.toml"))


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.stem)
def test_every_card_loads(path):
    card = load_card(path)
    assert card["model"].name == card["architecture"]


def test_every_architecture_has_a_card():
    assert {c["architecture"] for c in zoo().values()} == set(REGISTRY)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_loads(path):
    recipe_kinds()  # import the runner modules (and their dependencies' own warnings) first
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shipped recipes use the one spelling (no deprecated keys)
        spec = load_recipe(path)
    assert spec["kind"] and spec["description"]


def test_malformed_card_and_recipe(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\narchitecture = "ErfNet"\n')
    with pytest.raises(NNFTError, match="missing"):
        load_card(bad)
    bad.write_text("kind = [\n")
    with pytest.raises(NNFTError, match="TOML"):
        load_recipe(bad)
    bad.write_text('kind = "no_such_kind"\n')
    with pytest.raises(NNFTError, match="kind"):
        load_recipe(bad)
    bad.write_text('name="x"\narchitecture="NoNet"\nsummary=""\nsource=""\nanalytic=[]\n[parameters]\n[distribution]\n')
    with pytest.raises(NNFTError, match="unknown architecture"):
        load_card(bad)


def test_nnft_run_writes_the_report(tmp_path, capsys):
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(
        'kind = "width_scaling"\nwidths = [2, 3, 4]\nn_nets = 20000\nn_neurons = 4096\n'
        '[[ensembles]]\narchitecture = { name = "ErfNet" }\nx = [0.2, 0.7, 1.2]\n'
    )
    out = tmp_path / "report"
    assert main(["run", str(recipe), "--out", str(out), "--quiet"]) == 0
    for f in ("results.nc", "summary.md", "g2_vs_kernel.png", "scaling_ErfNet.png", ".nnft_report.json"):
        assert (out / f).stat().st_size > 0, f
    assert "ErfNet" in (out / "summary.md").read_text()
    back = xr.open_datatree(out / "results.nc", engine="h5netcdf")
    check_tree(back)  # point coordinates, params and version attrs
    np.testing.assert_allclose(back["ErfNet"]["point_1"].values, [0.2, 0.7, 1.2])
    assert back["ErfNet"].to_dataset().G2.sel(point_1=0.7, point_2=1.2).shape == (3,)  # .sel by position
    assert main(["zoo"]) == 0
    assert "ErfNet" in capsys.readouterr().out


def test_nnft_cli_reports_bad_input(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "recipe" in capsys.readouterr().err
