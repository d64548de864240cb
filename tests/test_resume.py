"""Issue 16 (nothing lost): `nnft run` checkpoints its streamed stages; a run killed with SIGKILL
midway and resumed with `--resume` writes exactly the report of an uninterrupted run; checkpoints of
another run (seed, points, version, recipe) and damaged ones are refused, never mixed in."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import nnft_ppl
from nnft_ppl import NNFTError
from nnft_ppl._stages import stage_folder_path
from nnft_ppl.recipes import run_recipe

RECIPE = """
kind = "width_scaling"
seed = 3
widths = [2, 3, 4]
n_nets = 100000
dtype = "float32"
[[ensembles]]
architecture = { name = "ErfNet" }
x = [-1.0, 0.0, 1.0]
"""


def _blocks(stage: Path) -> int:
    d = stage.with_name(stage.name + ".blocks")
    return len(list(d.glob("block*.npz"))) if d.is_dir() else 0


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """A run (`--force`, over an old report) killed with SIGKILL while its second stage is half done; a
    copy of its checkpoint; and what `out` held right after the kill (tests/test_cli.py's killed-run
    check shares this subprocess: one Python + JAX start for both)."""
    tmp = tmp_path_factory.mktemp("resume")
    recipe = tmp / "small.toml"
    recipe.write_text(RECIPE)
    out = tmp / "report"
    out.mkdir()
    (out / "summary.md").write_text("old report")
    (out / ".nnft_report.json").write_text("{}")
    cmd = [sys.executable, "-m", "nnft_ppl.cli", "run", str(recipe), "--out", str(out), "--force", "--quiet"]
    proc = subprocess.Popen(cmd, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stage2 = stage_folder_path(out) / "stage0002.ckpt"
    deadline = time.monotonic() + 300
    while proc.poll() is None and _blocks(stage2) < 8 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed midway"
    after_kill = {p.name: p.read_text() for p in out.iterdir()}
    partial = sorted(p.name for p in tmp.glob(".report.partial-*"))
    done = _blocks(stage2)
    assert 8 <= done < 64 and _blocks(stage_folder_path(out) / "stage0001.ckpt") == 64
    saved = tmp / "saved_stages"
    shutil.copytree(stage_folder_path(out), saved)
    return recipe, out, saved, after_kill, partial


def test_a_killed_run_leaves_the_old_report_intact(killed):
    """(from tests/test_cli.py) The killed run had started writing its report (a partial folder beside
    `out`), yet `out` holds the old report unchanged; the next run says so and needs `--force`."""
    recipe, out, saved, after_kill, partial = killed
    assert partial, "the run never started writing"
    assert after_kill == {".nnft_report.json": "{}", "summary.md": "old report"}
    _restore(saved, out)
    with pytest.warns(UserWarning, match="interrupted"):  # the next run says so
        with pytest.raises(NNFTError, match="--force"):
            run_recipe(recipe, out, progress=False)


def _restore(saved: Path, out: Path) -> Path:
    folder = stage_folder_path(out)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(saved, folder)
    return folder


def test_mismatched_checkpoints_refused(killed, monkeypatch):
    recipe, out, saved, *_ = killed
    _restore(saved, out)
    for overrides, what in [
        (["seed=4"], "seed"),
        (["ensembles.0.x=[-1.0, 0.0, 0.5]"], "points"),
        (["n_nets=90000"], "recipe values"),
    ]:
        with pytest.raises(NNFTError, match=rf"--resume: .*another run \(differs in: {what}\)"):
            run_recipe(recipe, out, progress=False, resume=True, overrides=overrides)
    monkeypatch.setattr(nnft_ppl, "__version__", "0.0.0-other")
    with pytest.raises(NNFTError, match=r"differs in: library version"):
        run_recipe(recipe, out, progress=False, resume=True, force=True)  # `out` holds the old report


@pytest.mark.parametrize("damage", ["manifest", "block", "torn block"])
def test_damaged_checkpoints_refused(killed, damage):
    recipe, out, saved, *_ = killed
    folder = _restore(saved, out)
    if damage == "manifest":
        (folder / "manifest.json").write_bytes(b'{"format": "nnft_ppl-stag')
        match = "--resume: the checkpoint .* is damaged"
    else:
        block = folder / "stage0001.ckpt.blocks" / "block00003.npz"
        data = block.read_bytes()
        block.write_bytes(data[: len(data) // 2] if damage == "torn block" else data[:-40] + b"\x00" * 40)
        match = "checkpoint: .*stage0001.ckpt has a damaged block file block00003.npz"
    with pytest.raises(NNFTError, match=match):
        run_recipe(recipe, out, progress=False, resume=True, force=True)  # `out` holds the old report


def test_sigkill_then_resume_gives_the_uninterrupted_result(killed, tmp_path):
    recipe, out, saved, *_ = killed
    _restore(saved, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the killed run's partial report folder
        run_recipe(recipe, out, progress=False, resume=True, force=True)  # over the old report
    assert not stage_folder_path(out).exists()  # removed once the report is written
    fresh = tmp_path / "fresh"
    run_recipe(recipe, fresh, progress=False)
    a, b = xr.open_dataset(out / "results.nc", group="ErfNet"), xr.open_dataset(fresh / "results.nc", group="ErfNet")
    assert set(a.data_vars) == set(b.data_vars) and "d4" in a
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)  # bit for bit
