"""The README's zoo table lists every registered entry with the columns `nnft zoo` prints,
derived from the cards and the classes' capabilities (so a new entry must add its row)."""

from __future__ import annotations

import re
from pathlib import Path

from nnft_ppl.architectures import REGISTRY
from nnft_ppl.cli import KERNEL_TYPES, ZOO_COLUMNS, main, zoo_rows

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_zoo_table() -> dict[str, tuple[str, ...]]:
    """The rows of the README's `### The zoo` table, by entry name."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### The zoo", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = tuple(c.strip() for c in lines[0].strip("|").split("|"))
    assert header == ZOO_COLUMNS, f"README zoo table columns {header} != {ZOO_COLUMNS}"
    rows = {}
    for ln in lines[2:]:
        cells = tuple(c.strip() for c in ln.strip().strip("|").split("|"))
        rows[re.sub(r"`", "", cells[0])] = (re.sub(r"`", "", cells[0]), *cells[1:])
    return rows


def test_readme_zoo_table_matches_the_cards_and_registry():
    cards = {r[0]: r for r in zoo_rows()}
    unstated = sorted(n for n, r in cards.items() if r[2] not in KERNEL_TYPES)
    assert not unstated, f"cards without `kernel = ` one of {KERNEL_TYPES}: {unstated}"
    table = readme_zoo_table()
    missing = sorted(set(cards) - set(table))
    assert not missing, f"README zoo table lacks rows for: {missing} (add: {[cards[m] for m in missing]})"
    stale = sorted(set(table) - set(cards))
    assert not stale, f"README zoo table lists entries with no card: {stale}"
    for name, row in cards.items():
        assert table[name] == row, f"README zoo row for {name}: {table[name]} != {row}"
    assert {r[1] for r in cards.values()} == set(REGISTRY), "every registered architecture has a card and a row"


def test_nnft_zoo_prints_the_table(capsys):
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == " ".join(ZOO_COLUMNS).split()
    for row in zoo_rows():
        assert any(ln.split()[:2] == list(row[:2]) and row[2] in ln and row[-1] in ln for ln in out[1:]), row
