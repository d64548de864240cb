"""notebooks/01_zoo_and_scaling.ipynb runs end to end at small sizes."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NB = Path(__file__).resolve().parent.parent / "notebooks" / "01_zoo_and_scaling.ipynb"


def test_zoo_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("NNFT_SMALL", "1")
    nb = nbformat.read(NB, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "d4 slope" in outputs and "G4c[0,0,0,0]" in outputs
    assert os.environ["NNFT_SMALL"] == "1"
