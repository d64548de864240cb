"""The notebooks are committed executed (small outputs, inline figures) and use only public API.

Each notebook's execution at NNFT_SMALL size is tested beside its subsystem (test_notebook_zoo,
test_nn_vs_gp, test_deform_notebook, test_symmetry_report); this checks what is stored.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_executed_and_public(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    src = "\n".join(c.source for c in code)
    assert not re.search(r"(from|import)\s+nnft_ppl(\.\w+)*\._\w+", src), "imports a private module"
    assert "matplotlib.use(" not in src, "forces a non-inline backend"
    assert all(c.execution_count is not None for c in code), "not executed top to bottom"
    kinds = {o.output_type for c in code for o in c.outputs}
    assert kinds & {"stream", "execute_result", "display_data"}, "no stored outputs"
    if "plt." in src or "plot_" in src:
        assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), "figures not inline"
    assert not any(o.output_type == "error" for c in code for o in c.outputs), "stored with an error"
    assert path.stat().st_size < 2_000_000, "outputs too large for the repository"
    assert set(nb.metadata) <= {"kernelspec", "language_info"}, "volatile metadata not stripped"
