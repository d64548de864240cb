"""The notebooks are committed executed (small outputs, inline figures) and use only public API.

This checks what is stored, and executes every notebook at NNFT_SMALL size in one shared kernel
per test worker, checking what each prints (`NEEDLES`).
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

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


#: what each notebook must print when executed at NNFT_SMALL size (a new notebook adds its line)
NEEDLES = {
    "01_zoo_and_scaling": ["d4 slope", "G4c[0,0,0,0]"],
    "02_nn_vs_gp": ["W2"],
    "03_interacting": ["rejected:", "Kish ESS"],
    "04_symmetry": ["smallest flagged last-layer mean"],
    "05_zoo_tour": ["leading order", "G4c_0011", "deep_mlp", "FreeScalar      max |G2 - K| / SE", "AttentionNet"],
    "06_expressivity": [
        "max |G2 - K| / SE =",
        "test RMSE of the 4 networks:",
        "fitted slope",
        "max |mean empirical NTK - analytic NTK| / SE",
        "trained mean vs lazy theory",
    ],
    "07_actions": ["constancy chi^2/dof", "G6c (O(lam^2) tree)", "G6 - Wick6(K)"],
}
#: what no notebook may print (non-converged NUTS runs announce themselves so)
FORBIDDEN = {"02_nn_vs_gp": ["> 1.01", "divergent"]}


def test_every_notebook_has_its_execution_check():
    assert {p.stem for p in NOTEBOOKS} == set(NEEDLES), "add the new notebook's expected outputs to NEEDLES"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One Jupyter kernel per test worker, shared by the notebooks (each starts from `%reset -f`):
    the kernel start and the imports are paid once, and compiled functions are shared."""
    cwd = tmp_path_factory.mktemp("notebooks")
    starter = NotebookClient(
        nbformat.v4.new_notebook(), kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    km = starter.create_kernel_manager()
    starter.start_new_kernel(cwd=str(cwd))
    yield km
    run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, kernel, monkeypatch):
    """Each notebook runs top to bottom at NNFT_SMALL size and prints what it promises."""
    monkeypatch.setenv("NNFT_SMALL", "1")
    nb = nbformat.read(path, as_version=4)
    setup = "%reset -f\nimport matplotlib.pyplot as plt\nplt.close('all')\n"
    setup += f"import gc; gc.set_threshold(*{gc.get_threshold()})"  # as this worker's (tests/conftest.py)
    nb.cells.insert(0, nbformat.v4.new_code_cell(setup))
    NotebookClient(nb, km=kernel, timeout=300, kernel_name="python3").execute()
    text = "".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    for needle in NEEDLES[path.stem]:
        assert needle in text, f"{path.name}: {needle!r} not printed"
    for bad in FORBIDDEN.get(path.stem, []):
        assert bad not in text, f"{path.name}: printed {bad!r}"
