"""ESS per second of NUTS on a phi^4-deformed ErfNet: 1 chain against C vectorized chains.

Model: ErfNet(width=32, d=1), V = lam phi^4/4! with lam = 1, S_int on [-1, 1] with 16 Gauss-Legendre
points, 4 observation points; 300 warm-up + 300 draws per chain; wall time includes compilation.
ESS is NumPyro's multi-chain effective sample size of phi (minimum over points), so this script
needs neither ArviZ nor GPJax (it runs on the GPU machine).

    python benchmarks/nuts_chains.py                 # C = 512 (meant for a GPU)
    python benchmarks/nuts_chains.py --chains 16 --quick   # CPU smoke run
"""

from __future__ import annotations

import argparse
import sys

import _clock  # noqa: F401  (prints compile time apart from run time at exit)
import jax
import jax.numpy as jnp
import numpy as np
from numpyro.diagnostics import effective_sample_size

import nnft_ppl as nf
from nnft_ppl.deform._model import deform
from nnft_ppl.deform._potentials import Phi4
from nnft_ppl.deform._quadrature import make_quadrature
from nnft_ppl.deform._sample import sample_deformed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chains", type=int, default=512)
    ap.add_argument("--quick", action="store_true", help="100 + 100 iterations (CPU smoke test)")
    ap.add_argument("--float32", action="store_true")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--lam", type=float, default=1.0)
    a = ap.parse_args(argv)
    warm, draws = (100, 100) if a.quick else (300, 300)
    dtype = jnp.float32 if a.float32 else jnp.float64
    model = deform(nf.ErfNet(width=a.width, d=1, sw=1.0, sb=1.0), Phi4(a.lam), make_quadrature((-1.0, 1.0), 16))
    x = np.linspace(-0.75, 0.75, 4)[:, None]
    print(
        f"backend={jax.default_backend()} devices={jax.devices()} dtype={jnp.dtype(dtype)} "
        f"warmup={warm} draws={draws} width={a.width} lam={a.lam}"
    )
    print(f"{'chains':>7} {'method':>11} {'wall_s':>8} {'min ESS':>9} {'ESS/s':>9} {'div':>5} {'mean steps':>10}")
    for c in (1, a.chains):
        run = sample_deformed(
            model,
            x,
            jax.random.PRNGKey(c),
            num_warmup=warm,
            num_samples=draws,
            num_chains=c,
            chain_method="sequential" if c == 1 else "vectorized",
            dtype=dtype,
        )
        ess = float(np.min(np.asarray(effective_sample_size(np.asarray(run.samples["phi"], np.float64)))))
        print(
            f"{c:>7} {run.meta['chain_method']:>11} {run.elapsed_s:>8.2f} {ess:>9.0f} {ess / run.elapsed_s:>9.1f} "
            f"{int(run.sample_stats['diverging'].sum()):>5} {float(run.sample_stats['num_steps'].mean()):>10.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
