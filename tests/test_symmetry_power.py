"""Each symmetry test's breaking-strength scan: zero breaking kept, the smallest flagged strength flagged."""

import jax
import numpy as np

from nnft_ppl import symmetry as S


def test_power_table_every_test():
    rows = S.power_table(key=jax.random.PRNGKey(3))
    assert [r["test"] for r in rows] == ["Z2", "rotation SO(d)", "translation", "internal SO(D)"]
    for r in rows:
        s = r["scan"]
        assert s["strengths"][0] == 0.0 and not s["flagged"][0], r
        assert r["smallest"] is not None and r["smallest"] > 0, r
        i = int(np.flatnonzero(s["strengths"] == r["smallest"])[0])
        assert s["flagged"][i] and not s["flagged"][:i].any(), r
        assert s["flagged"][-1], r
    assert "| Z2 |" in S.power_markdown(rows)
