"""Low-variance estimates of <phi(x)^2> in a phi^4-deformed ensemble from the Schwinger-Dyson equation.

For an architecture with i.i.d. neurons, phi(x) = r . H(x) is linear in the readout r = (a, bias) with a
Gaussian prior N(0, D). Stein's identity in r under P_lam ∝ N(r; 0, D) exp(-S_int) (boundary terms vanish)
gives, per network, with the network's own kernel Khat(x, y) = H(x)^T D H(y) = (s^2/N) sum_i h_i(x) h_i(y)
+ bias_std^2:

    <phi(x) phi(y)>_lam = < Khat(x, y) - phi(x) sum_q w_q V'(phi(z_q)) Khat(y, z_q) >_lam,

the Schwinger-Dyson equation <phi(x) dS/dphi(y)> = delta(x, y) multiplied by Khat. The right side does not
contain phi(x)^2: at lam = 0 it is the average of Khat, whose spread is O(1/sqrt(N)) (the readout is
integrated out), so its Monte Carlo error is several times smaller than the plain average of phi^2 at
small lam (NUTS, width-32 CosNet of the phi^4 recipe: variance ratio 96 at lam = 0.1, 28 at 0.5, 10 at 1).

For V = lam U (here U = phi^4/4!) the lam-derivative of <phi^2> is, with S1 = sum_q w_q U(phi(z_q)),
d/dlam <Z_lam> = <dZ_lam/dlam> - Cov_lam(Z_lam, S1), an average of a per-draw influence function too.
Both are means over the chains, so their SEs and their covariance come from the ESS (`mcmc_mean_se` of
Z, dZ and Z + dZ).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import NNFTError
from ..architectures import IIDNeuronArchitecture
from ..stats import mcmc_mean_se
from ._model import Deformed
from ._potentials import Phi4
from ._sample import DeformedRun


class Phi2Response(NamedTuple):
    """The point-averaged <phi^2> at lam and its lam-derivative, with SEs and their covariance
    (Schwinger-Dyson estimators, see the module docstring); `plain`/`plain_se`: the plain average of
    phi^2 for comparison."""

    lam: float
    value: float
    se: float
    slope: float
    slope_se: float
    cov: float
    plain: float
    plain_se: float


def _per_draw_fn(model: Deformed, x):
    """A jitted theta -> (mean_x Khat(x,x), mean_x phi(x) sum_q w_q U'(phi_q) Khat(x,z_q), S1, mean_x phi^2),
    vectorised over a flat batch of draws."""
    arch = model.arch
    if not isinstance(arch, IIDNeuronArchitecture):
        raise NNFTError(f"arch: the Schwinger-Dyson estimator needs i.i.d. neurons, got {type(arch).__name__}")
    x = jnp.asarray(x)
    zq = jnp.asarray(model.quad.points)
    wq = jnp.asarray(model.quad.weights)
    p = x.shape[0]
    pts = jnp.concatenate([x, zq])

    def one(theta):
        h = arch.features(arch.hidden_sites(theta), pts)  # (N, P + Q)
        khat = arch.conditional_kernel(h, h)
        phi = arch.apply(theta, pts)
        phq = phi[p:]
        u = phq**4 / 24.0
        du = phq**3 / 6.0
        a = jnp.mean(jnp.diagonal(khat)[:p])
        b = jnp.mean(phi[:p] * (khat[:p, p:] @ (wq * du)))
        return a, b, jnp.sum(wq * u), jnp.mean(phi[:p] ** 2)

    return jax.jit(jax.vmap(one))


def _one_response(fn, model: Deformed, run: DeformedRun, lam: float) -> Phi2Response:
    pot, poly = run.meta.get("potential"), run.meta.get("potential_polynomial")
    same = poly == Phi4(lam).polynomial() if poly is not None else pot == Phi4(lam).describe()
    if pot is not None and not same:
        raise NNFTError(f"run: sampled with {pot}, not {Phi4(lam).describe()} (the estimator is for V = lam phi^4/4!)")
    sites = [k for k in run.samples if k not in ("phi", "S_int_value")]
    if model.arch.readout_site not in sites:
        raise NNFTError(f"run: the samples lack the readout site {model.arch.readout_site!r} (keep theta in the run)")
    c, s = run.samples["phi"].shape[:2]
    flat = {k: jnp.asarray(run.samples[k]).reshape((c * s,) + run.samples[k].shape[2:]) for k in sites}
    a, b, s1, phi2 = (np.asarray(v, np.float64).reshape(c, s) for v in fn(flat))
    lam = float(lam)
    z = a - lam * b
    dz = -b - (z - z.mean()) * (s1 - s1.mean())
    m, se, _ = mcmc_mean_se(np.stack([z, dz, z + dz, phi2], axis=-1))
    cov = 0.5 * (se[2] ** 2 - se[0] ** 2 - se[1] ** 2)
    m, se = [float(v) for v in m], [float(v) for v in se]
    return Phi2Response(lam, m[0], se[0], m[1], se[1], float(cov), m[3], se[3])


def phi2_responses(model: Deformed, runs: list[DeformedRun], lams) -> list[Phi2Response]:
    """Schwinger-Dyson estimates of the point-averaged <phi^2> of each run of `Phi4(lam)` and of its
    lam-derivative (see the module docstring), with ESS-based SEs and their covariance. The runs must
    keep their parameter draws (`sample_scan` does) and share the observation points."""
    lams = [float(v) for v in lams]
    if len(lams) != len(runs) or not runs:
        raise NNFTError(f"lams: {len(lams)} values for {len(runs)} runs")
    fn = _per_draw_fn(model, runs[0].x)
    return [_one_response(fn, model, r, lam) for r, lam in zip(runs, lams, strict=True)]


def phi2_response(model: Deformed, run: DeformedRun, lam: float) -> Phi2Response:
    """`phi2_responses` for one run."""
    return phi2_responses(model, [run], [lam])[0]
