"""SharedScaleNet: a CosNet whose readouts share one random scale (independence breaking)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro

from .. import _validate as V
from .._combinatorics import cumulant_from_moments, set_partitions
from .._errors import NNFTError
from .._tensors import sorted_tuples
from ._base import ExactCumulants, normal, uniform
from .cosnet import CosNet


class SharedScaleNet(ExactCumulants):
    """phi = sqrt(1 + alpha u) sum_i a_i cos(w_i . x + b_i), u ~ U[-1, 1] shared by every neuron;
    a ~ N(0, sa^2/N), w ~ N(0, sw^2/d), b ~ U[-pi, pi] (CosNet's neurons).

    The common scale s = sqrt(1 + alpha u) breaks the neurons' statistical independence
    (arXiv:2307.03223, seed section 3.1): with psi the CosNet field, E[s^2] = 1 so G2 is CosNet's
    kernel exactly, while G4c = E[s^4] kappa4(psi) + (E[s^4] - 1) (K12 K34 + K13 K24 + K14 K23),
    E[s^4] = 1 + alpha^2/3: the alpha part survives N -> infinity. Every cumulant is exact:
    moments of phi are E[s^r] times CosNet's (closed-form) moments, E[s^2k] = E[(1 + alpha u)^k].
    Not an i.i.d.-neuron architecture: the neuron-level estimator does not apply.
    """

    width: int = 100
    d: int = 1
    sw: float = 1.0
    sa: float = 1.0
    alpha: float = 0.5
    zoo_test_params = {"width": 3}

    def __check_init__(self):
        V.field_integer("width", self.width)
        V.field_integer("d", self.d)
        V.positive("sw", self.sw)
        V.positive("sa", self.sa)
        a = V.nonnegative("alpha", self.alpha)
        if not isinstance(a, jax.core.Tracer) and a > 1.0:
            raise NNFTError(f"alpha must be in [0, 1] (so that 1 + alpha u >= 0), got {self.alpha!r}")

    @property
    def base(self) -> CosNet:
        """The i.i.d.-neuron ensemble psi that the shared scale multiplies."""
        return CosNet(width=self.width, d=self.d, sw=self.sw, sa=self.sa)

    def scale_moment(self, r: int) -> float:
        """E[s^r] for the shared scale s = sqrt(1 + alpha u), r even (0 for odd r: unused)."""
        if r % 2:
            raise NNFTError(f"r: the shared scale's moments are used at even orders, got {r}")
        k = r // 2
        return float(sum(math.comb(k, j) * self.alpha**j / (j + 1) for j in range(0, k + 1, 2)))

    def model(self, x, dtype):
        base = self.base
        with numpyro.plate("neurons", self.width):
            theta = dict(base.neuron_prior(dtype))
            theta["a"] = numpyro.sample("a", normal(dtype, self.sa / math.sqrt(self.width)))
        theta["u"] = numpyro.sample("u", uniform(dtype, -1.0, 1.0))
        if x is None:
            return None
        return numpyro.deterministic("phi", self.forward(theta, jnp.asarray(x, dtype)))

    def forward(self, theta, x):
        psi = self.base.forward({k: v for k, v in theta.items() if k != "u"}, x)
        return jnp.sqrt(1.0 + self.alpha * theta["u"]) * psi

    def kernel(self, x1, x2):
        return self.base.kernel(x1, x2)

    def sample_fields(self, keys, x, dtype=jnp.float64):
        """CosNet's exact collapsed sampler times an independent shared scale per network (exact
        in distribution: u is independent of the neurons)."""
        k1, k2 = jax.vmap(jax.random.split, out_axes=1)(keys)
        psi = self.base.sample_fields(k1, x, dtype)
        u = jax.vmap(lambda k: jax.random.uniform(k, (), dtype, -1.0, 1.0))(k2)
        return jnp.sqrt(1.0 + self.alpha * u)[:, None] * psi

    def exact_connected_values(self, x, tuples, width=None):
        """kappa_r(phi) from the moments E[phi...] = E[s^r] E[psi...], CosNet's moments assembled from
        its exact cumulants (odd ones vanish); closed form, so the errors are zero."""
        x = np.asarray(x, np.float64)
        order = len(tuples[0])
        base = self.base
        p = x.shape[0]
        kappa: dict[tuple[int, ...], float] = {}
        for r in range(2, order + 1, 2):
            tl = sorted_tuples(p, r)
            vals, _ = base.exact_connected_values(x, tl, width)
            kappa.update(zip(tl, (float(v) for v in vals), strict=True))
        psi_moment: dict[tuple[int, ...], float] = {}

        def moment_psi(idx: tuple[int, ...]) -> float:
            key = tuple(sorted(idx))
            if key not in psi_moment:
                total = 0.0
                for part in set_partitions(len(key)):
                    if all(len(b) % 2 == 0 for b in part):
                        total += math.prod(kappa[tuple(sorted(key[i] for i in b))] for b in part)
                psi_moment[key] = total
            return psi_moment[key]

        def moment_phi(t, blk) -> float:
            sub = tuple(t[i] for i in blk)
            return 0.0 if len(sub) % 2 else self.scale_moment(len(sub)) * moment_psi(sub)

        vals = np.array([cumulant_from_moments(order, lambda blk, t=t: moment_phi(t, blk)) for t in tuples])
        return vals, np.zeros_like(vals)
