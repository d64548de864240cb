"""notebooks/03_interacting.ipynb runs end to end at small sizes (NNFT_SMALL=1)."""

import os
from pathlib import Path

import pytest

NB = Path(__file__).resolve().parent.parent / "notebooks" / "03_interacting.ipynb"


def test_interacting_notebook_executes(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("NNFT_SMALL", "1")
    nb = nbformat.read(NB, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NB.parent)}}
    )
    client.execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "rejected:" in outputs and "Kish ESS" in outputs
    assert os.environ["NNFT_SMALL"] == "1"
