"""The README's code blocks run as written (in a scratch folder), so the tour never goes stale."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from nnft_ppl.gp import BNNWarning

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_ecosystem_snippets():
    text = "\n".join(BLOCKS)
    for needle in ("arch.prior(", "NNGPKernel(", "az.summary(", "MCMC(", "gpx."):
        assert needle in text, f"README lost its {needle!r} snippet"


def test_readme_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", BNNWarning)  # the README's NUTS run converges (R-hat gate)
        for i, block in enumerate(BLOCKS):  # later blocks use names the earlier ones define
            exec(compile(block, f"README.md python block {i}", "exec"), ns)
