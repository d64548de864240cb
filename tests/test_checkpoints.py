"""Checkpoints: resume exactly, never reuse another run's blocks (fingerprints that cannot collide),
refuse damaged files before any block runs; requested tuples are honoured or refused (issue 12)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import nnft_ppl as nn
from nnft_ppl import NNFTError
from nnft_ppl.ensemble import _stream, ensemble_correlators
from nnft_ppl.ensemble._checkpoint import callable_identity

X = np.array([-1.0, -0.6, -0.2])
KW = dict(max_order=4, progress=False)


def test_checkpoint_resumes_exactly_and_reuses_finished_blocks(tmp_path):
    arch = nn.ErfNet(width=3)
    ck = tmp_path / "ck.json"
    full = ensemble_correlators(arch, X, 2000, key=4, **KW)
    first = ensemble_correlators(arch, X, 2000, key=4, checkpoint=ck, **KW)
    blocks = sorted((tmp_path / "ck.json.blocks").glob("block*.npz"))
    assert len(blocks) == 64
    for f in blocks[10:]:  # the run stopped after 10 blocks
        f.unlink()
    resumed = ensemble_correlators(arch, X, 2000, key=4, checkpoint=ck, **KW)
    for ds in (first, resumed):
        np.testing.assert_array_equal(ds.G4c.values, full.G4c.values)
        assert float(ds.G4c_khat) == float(full.G4c_khat)
    z = dict(np.load(blocks[3]))
    np.savez(blocks[3], sums=np.full_like(z["sums"], np.nan), tails=z["tails"])
    reused = ensemble_correlators(arch, X, 2000, key=4, checkpoint=ck, **KW)
    assert np.all(np.isnan(reused.G4.values))  # block 3 came from the file, not recomputed
    with pytest.raises(NNFTError, match=r"differs in: key\)"):
        ensemble_correlators(arch, X, 2000, key=5, checkpoint=ck, **KW)


def test_tuples_collision_is_refused(tmp_path):
    """Issue 12: a run for (1,1,1,1) on a checkpoint of (0,0,0,0) returned the other entry's G4."""
    arch, ck = nn.ErfNet(width=3), tmp_path / "ck"
    ensemble_correlators(arch, X, 2000, key=1, tuples=[(0, 0, 0, 0)], checkpoint=ck, **KW)
    with pytest.raises(NNFTError, match=r"different run \(differs in: tuples\)"):
        ensemble_correlators(arch, X, 2000, key=1, tuples=[(1, 1, 1, 1)], checkpoint=ck, **KW)


def test_callable_activation_collision_is_refused(tmp_path):
    """Issue 12: SingleLayer(tanh) and SingleLayer(lambda z: sin(3z)) shared a fingerprint."""
    ck = tmp_path / "ck"
    tanh = nn.SingleLayer(activation=lambda z: jnp.tanh(z), width=3)  # both were recorded as '<lambda>'
    ensemble_correlators(tanh, X, 2000, key=1, checkpoint=ck, **KW)
    other = nn.SingleLayer(activation=lambda z: jnp.sin(3 * z), width=3)
    with pytest.raises(NNFTError, match=r"differs in: architecture\)"):
        ensemble_correlators(other, X, 2000, key=1, checkpoint=ck, **KW)


def test_callable_identity():
    def f(z):
        return jnp.sin(3 * z)

    def g(z):
        return jnp.sin(2 * z)

    assert callable_identity(f) == callable_identity(f)
    assert callable_identity(f) != callable_identity(g)
    assert callable_identity(lambda z: z) != callable_identity(lambda z: 2 * z)
    assert callable_identity(jnp.tanh) != callable_identity(jnp.sin)

    class Opaque:
        __call__ = None

    with pytest.raises(NNFTError, match="checkpoint: cannot identify"):
        callable_identity(Opaque())


@pytest.mark.parametrize("damage", ["folder", "garbage", "truncated", "block"])
def test_damaged_checkpoint_refused_before_any_block_runs(tmp_path, monkeypatch, damage):
    arch, ck = nn.ErfNet(width=3), tmp_path / "ck"
    if damage == "folder":
        ck.mkdir()
    elif damage == "garbage":
        ck.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff garbage")
    else:
        ensemble_correlators(arch, X, 2000, key=1, checkpoint=ck, **KW)
        if damage == "truncated":
            ck.write_bytes(ck.read_bytes()[:20])
        else:
            (tmp_path / "ck.blocks" / "block00005.npz").write_bytes(b"PK\x03\x04 not a zip")

    def no_blocks(*a, **k):
        raise AssertionError("a block ran before the checkpoint was checked")

    monkeypatch.setattr(_stream, "_compiled_step", no_blocks)
    with pytest.raises(NNFTError, match=rf"checkpoint: {ck}.*remove it"):
        ensemble_correlators(arch, X, 2000, key=1, checkpoint=ck, **KW)


def test_tuples_above_max_order_raise():
    """Issue 12: tuples above max_order were dropped silently (only G2 came back)."""
    with pytest.raises(NNFTError, match="tuples: .*max_order = 4"):
        ensemble_correlators(nn.ErfNet(width=3), X, 2000, key=1, tuples=[(0, 1, 2, 0, 1, 2)], **KW)
