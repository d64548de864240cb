"""notebooks/07_actions.ipynb runs end to end at small sizes (public API only: tests/test_notebooks.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NB = Path(__file__).resolve().parent.parent / "notebooks" / "07_actions.ipynb"


def test_actions_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("NNFT_SMALL", "1")
    nb = nbformat.read(NB, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "constancy chi^2/dof" in outputs and "G6c (O(lam^2) tree)" in outputs and "G6 - Wick6(K)" in outputs
