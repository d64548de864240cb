"""Studies: statistical checks that are tests in every respect (fixed keys, tolerances in standard
errors, able to fail) but too long for `make test`'s 10-minute budget; `make studies` runs them, and
each is recorded in the notes of the issue it belongs to. The suite keeps a shorter slice of each
(named in the study's docstring). Same settings as the suite: float64, NNFT_SMALL, -O0, the cache."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # tests/arviz_conventions.py and the suite's settings

from tests.conftest import rng  # noqa: E402,F401  (the suite's environment, set on import)
