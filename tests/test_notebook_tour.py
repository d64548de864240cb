"""notebooks/05_zoo_tour.ipynb runs end to end at small sizes."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NB = Path(__file__).resolve().parent.parent / "notebooks" / "05_zoo_tour.ipynb"


def test_zoo_tour_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("NNFT_SMALL", "1")
    nb = nbformat.read(NB, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "leading order" in outputs and "G4c_0011" in outputs and "deep_mlp" in outputs
