"""No function in nnft_ppl is over 80 lines (issue 10: split where the pieces have names); one that
must be longer says why in a `# long: <reason>` comment on its `def` line."""

from __future__ import annotations

import ast
import pathlib

import nnft_ppl

ROOT = pathlib.Path(nnft_ppl.__file__).resolve().parent
LIMIT = 80


def test_no_function_over_80_lines():
    long = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > LIMIT and "# long:" not in lines[node.lineno - 1]:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)
