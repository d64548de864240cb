"""ConvNet and AttentionNet: Monte Carlo G2 against the NNGP kernel as the channel / head count grows.

For ConvNet at depth 2 the finite-width G2 differs from the kernel by O(1/C); this prints the
relative deviation (G2 - K) / K with its standard error at several channel counts C, so the test's
choice of C (where the correction is far below the test's SE) is backed by a measurement. For
AttentionNet (one layer, i.i.d. heads) G2 equals the kernel at any head count; the deviations
should be zero within errors at every H.

    PYTHONPATH=. python benchmarks/conv_attention.py [--nets 100000]
"""

from __future__ import annotations

import argparse
import time

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import numpy as np

import nnft_ppl  # noqa: F401
from nnft_ppl.architectures import REGISTRY
from nnft_ppl.ensemble import ensemble_correlators


def study(name, x, widths, n_nets, **params):
    print(f"\n{name} {params}")
    print(f"{'width':>6} {'max |z|':>8} {'mean rel dev':>13} {'+-':>9} {'min k-hat':>9} {'s':>6}")
    iu = np.triu_indices(x.shape[0])
    for w in widths:
        arch = REGISTRY[name](width=w, **params)
        t0 = time.perf_counter()
        ds = ensemble_correlators(arch, x, n_nets, key=11, max_order=2, progress=False)
        k = np.asarray(arch.nngp_kernel(x, x))
        rel = ((ds.G2.values - k) / k)[iu]
        rel_se = (ds.G2_se.values / np.abs(k))[iu]
        z = np.abs(ds.G2.values - k)[iu] / ds.G2_se.values[iu]
        khat = float(np.nanmax(ds.G2_khat.values)) if "G2_khat" in ds else float("nan")
        mean_rel, mean_se = rel.mean(), rel_se.mean()  # the entries share networks: no 1/sqrt(n) here
        print(f"{w:6d} {z.max():8.2f} {mean_rel:13.5f} {mean_se:9.5f} {khat:9.2f} {time.perf_counter() - t0:6.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nets", type=int, default=100_000)
    ap.add_argument("--only", choices=["conv", "attention"], default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(5)
    x1, x2, x3 = rng.normal(size=(3, 4)), rng.normal(size=(3, 6)), rng.normal(size=(3, 4))
    if args.only != "attention":
        study("ConvNet", x1, [4, 16, 64, 256], args.nets, d=4, depth=2)
        conv2d = dict(d=6, shape=(2, 3), depth=2, readout="dense", activation="erf")
        study("ConvNet", x2, [4, 16, 64], args.nets, **conv2d)
    if args.only != "conv":
        study("AttentionNet", x3, [1, 4, 64, 256], args.nets, d=4, tokens=2)
        study("AttentionNet", x3, [1, 4, 64, 256], args.nets, d=4, key_dim=2, sqk=1.5)


if __name__ == "__main__":
    main()
