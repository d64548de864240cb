"""Execute every notebook at notebook size (NNFT_SMALL=1) and store it with its outputs.

Run from the repository root: `make notebooks`. Volatile metadata (timings, kernel versions,
stderr progress bars) is stripped so that a re-run changes only what the results change.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {}), "language_info": {"name": "python"}}
    nbformat.write(nb, path)


def main(names: list[str]) -> None:
    os.environ["NNFT_SMALL"] = "1"
    paths = [HERE / n for n in names] if names else sorted(HERE.glob("*.ipynb"))
    for p in paths:
        print(f"executing {p.name}", flush=True)
        execute(p)


if __name__ == "__main__":
    main(sys.argv[1:])
