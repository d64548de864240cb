"""D outputs for any architecture with a Gaussian linear readout (`LinearReadout`): `VectorOutput`.

The D outputs share the hidden layer and have independent readouts,
phi_a(x) = b_a + sum_i W_ai h_i(x), W_ai ~ N(mu, s^2/N), b_a ~ N(0, bias^2). At mu = 0 the
ensemble is invariant under internal O(D) rotations of the outputs; then
G2_ab(x, y) = delta_ab G2(x, y) and the connected four-point function carries the index
structure (d_ab d_cd V_(12)(34) + d_ac d_bd V_(13)(24) + d_ad d_bc V_(14)(23)) / N of the
architecture's four-point vertex (`LinearReadout.output_vertex4`: exact for i.i.d. neurons,
leading order in 1/N for deep networks).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _validate as V
from .._errors import NNFTError
from .._x64 import float64
from ._base import LinearReadout, Theta, _nonzero, normal


class VectorOutput(eqx.Module):
    """`n_out` = D outputs of `arch` (a `LinearReadout`) with independent readouts of its shared
    hidden layer, readout weights N(`readout_mean`, s^2/N) (mean 0: internal O(D) invariant)."""

    arch: LinearReadout
    n_out: int = eqx.field(static=True, default=2)
    readout_mean: float = 0.0

    def __check_init__(self):
        if not isinstance(self.arch, LinearReadout):
            raise NNFTError(
                f"arch: {type(self.arch).__name__} has no Gaussian linear readout of a hidden layer "
                "(LinearReadout), so D outputs are not defined for it"
            )
        V.field_integer("n_out", self.n_out)

    @property
    def d(self) -> int:
        return self.arch.d

    @property
    def width(self) -> int:
        return self.arch.width

    @property
    def name(self) -> str:
        return f"VectorOutput({self.arch.name}, {self.n_out})"

    def check_points(self, x, name: str = "x") -> np.ndarray:
        """Validate points against the input dimension `d`."""
        return self.arch.check_points(x, name)

    # ---- sampling -------------------------------------------------------------------------
    def prior(self, x: Float[Array, "P d"] | None = None, dtype=jnp.float64):
        """NumPyro model: the architecture's hidden sites, then `W_out` (D, N) and `b_out` (D,);
        with points `x` it records and returns `phi` (P, D)."""
        hidden = self.arch.hidden_model(dtype)
        s = self.arch.readout_std / np.sqrt(self.width)
        w = numpyro.sample("W_out", normal(dtype, s).expand([self.n_out, self.width]).to_event(2))
        theta = {**hidden, "W_out": w + self.readout_mean}
        if _nonzero(self.arch.bias_std):
            theta["b_out"] = numpyro.sample("b_out", normal(dtype, self.arch.bias_std).expand([self.n_out]).to_event(1))
        if x is None:
            return None
        return numpyro.deterministic("phi", self.apply(theta, jnp.asarray(self.arch.points(x), dtype)))

    def apply(self, theta: Theta, x: Float[Array, "P d"]) -> Float[Array, "P D"]:
        """phi_a(x) for one parameter draw (`W_out` including its mean)."""
        x = self.arch.points(x)
        hidden = {k: v for k, v in theta.items() if k not in ("W_out", "b_out")}
        h = self.arch.hidden_features(hidden, x)
        out = jnp.einsum("an,np->pa", theta["W_out"], h, precision=jax.lax.Precision.HIGHEST)
        return out + theta.get("b_out", 0.0)

    def sample_fields(self, keys: PRNGKeyArray, x: Float[Array, "P d"], dtype=jnp.float64) -> Float[Array, "M P D"]:
        """phi at x (M, P, D) for one network per key; exact collapsed draw: given the hidden
        layer h, the outputs are i.i.d. Gaussian with covariance bias^2 + (s^2/N) h^T h and mean
        mu sum_i h_i(x)."""
        x = jnp.asarray(self.arch.points(x), dtype)
        s2, b2 = self.arch.readout_std**2 / self.width, self.arch.bias_std**2
        hp = jax.lax.Precision.HIGHEST

        def one(k):
            k1, k2 = jax.random.split(k)
            h = self.arch.sample_hidden_features(k1, x, dtype)
            gram = b2 + s2 * jnp.einsum("np,nq->pq", h, h, precision=hp)
            lam, vec = jnp.linalg.eigh(gram)
            root = vec * jnp.sqrt(jnp.clip(lam, 0.0))[None, :]
            eps = jax.random.normal(k2, (x.shape[0], self.n_out), dtype)
            return jnp.einsum("pq,qa->pa", root, eps, precision=hp) + self.readout_mean * jnp.sum(h, 0)[:, None]

        return jax.vmap(one)(keys)

    # ---- theory -------------------------------------------------------------------------------
    def nngp_kernel(self, x1: Float[Array, "P1 d"], x2: Float[Array, "P2 d"]) -> Float[Array, "P1 P2"]:
        """The per-output infinite-width two-point function (times delta_ab; at readout mean 0)."""
        return self.arch.nngp_kernel(x1, x2)

    @float64
    def two_point(self, x: Float[Array, "P d"]) -> Float[np.ndarray, "P D P D"]:
        """G2[i, a, j, b] = delta_ab (K + the architecture's known finite-width correction)
        (readout mean 0)."""
        self._centred()
        x = self.check_points(x)
        g2 = np.asarray(self.arch.nngp_kernel(x, x), np.float64) + self.arch.g2_correction(x)
        return np.einsum("ij,ab->iajb", g2, np.eye(self.n_out))

    @float64
    def connected4(self, x: Float[Array, "P d"]) -> tuple[np.ndarray, np.ndarray, bool]:
        """G4c[i, a, j, b, k, c, l, e] over (point, output) index pairs (shape (P, D) * 4), its
        absolute numerical error, and whether it is exact (else leading order in 1/N)."""
        self._centred()
        v, err, exact = self.arch.output_vertex4(self.check_points(x))
        eye = np.eye(self.n_out)
        # the pairings (12)(34), (13)(24), (14)(23): V_(12)(34) d_a1a2 d_a3a4 and its permutations
        specs = ("ijkl,wx,yz->iwjxkylz", "ikjl,wy,xz->iwjxkylz", "iljk,wz,xy->iwjxkylz")
        out = sum(np.einsum(sp, v, eye, eye) for sp in specs)
        out_err = sum(np.einsum(sp, err, eye, eye) for sp in specs)
        return out / self.width, out_err / self.width, exact

    def _centred(self) -> None:
        if self.readout_mean != 0:
            raise NNFTError("readout_mean: the analytic correlators are those of the centred readout (mean 0)")
