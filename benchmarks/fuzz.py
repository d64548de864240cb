"""The full fuzz: `tests/test_fuzz.py` and `tests/test_fuzz_cli.py` with many more examples and
random seeds.

Each property of the test files runs in its own pytest process with `NNFT_FUZZ_EXAMPLES=<scale>`
(every CI budget multiplied), `NNFT_FUZZ_RANDOM=1` (fresh random examples instead of the fixed
seed) and, with `--run-recipes`, `NNFT_FUZZ_RUN=1` (the CLI property runs the generated recipes
for real instead of validating them only). The time budget is split evenly between the
properties (each is stopped at its share); prints, per property, pass / FAIL / stopped with the
time taken and the number of calls checked, and, for failures, hypothesis's minimal failing example.
Not a test: `python benchmarks/fuzz.py [--minutes 10] [--scale 40] [--run-recipes]`."""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _clock  # noqa: F401  (prints compile time apart from run time at exit)

ROOT = Path(__file__).resolve().parents[1]
TESTS = sorted((ROOT / "tests").glob("test_fuzz*.py"))


def properties() -> list[tuple[Path, str]]:
    """The hypothesis-driven tests (decorated with @given) of the fuzz test files."""
    out = []
    for path in TESTS:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                if any(ast.unparse(d).startswith("given(") for d in node.decorator_list):
                    out.append((path, node.name))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--scale", type=float, default=40.0, help="multiplies every property's CI example budget")
    ap.add_argument("--run-recipes", action="store_true", help="run generated recipes for real (slow)")
    a = ap.parse_args()
    props = properties()
    share = 60.0 * a.minutes / len(props)
    env = {**os.environ, "NNFT_FUZZ_EXAMPLES": str(a.scale), "NNFT_FUZZ_RANDOM": "1"}
    if a.run_recipes:
        env["NNFT_FUZZ_RUN"] = "1"
    print(f"{len(props)} properties, {share:.0f} s each, examples x{a.scale:g}, random seeds")
    failures, total = 0, 0
    counter = Path(tempfile.mkdtemp()) / "count"
    env["NNFT_FUZZ_COUNT"] = str(counter)
    for path, name in props:
        t0 = time.perf_counter()
        counter.write_text("")
        cmd = [sys.executable, "-m", "pytest", f"{path}::{name}", "-x", "-p", "no:cacheprovider", "--tb=short"]
        try:
            res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=share)
            status = "pass" if res.returncode == 0 else "FAIL"
        except subprocess.TimeoutExpired:
            res, status = None, "stopped (budget spent, nothing found so far)"
        calls = len(counter.read_text())
        total += calls
        print(f"{name:<40} {status:<8} {time.perf_counter() - t0:6.0f} s, {calls:6d} calls checked", flush=True)
        if status == "FAIL":
            failures += 1
            lines = res.stdout.splitlines()
            keep = [ln for ln in lines if ln.startswith("E ") or "Falsifying" in ln or "Failing test case" in ln]
            print("\n".join(keep[-40:]))
    print(f"{failures} of {len(props)} properties failed; {total} calls checked")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
