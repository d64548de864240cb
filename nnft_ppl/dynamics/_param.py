# ruff: noqa: F722  (jaxtyping shape strings are not Python expressions)
"""Parametrisations: standard (the zoo's own), NTK and maximal-update (muP).

An architecture's theta are drawn with standard deviations std_s per site s (the zoo's
"standard" parametrisation trains theta itself). The other two train unit-scale parameters
omega with theta = m_s * omega_s:

- `"ntk"`: m_s = std_s (Jacot et al. 2018). The prior over functions is the zoo's own; the
  NTK stays finite as the width N grows (its infinite-width limit is `ntk_kernel`), and
  gradient descent stays lazy: the NTK moves by O(N^-1/2).
- `"mup"`: like `"ntk"` but the readout layer's multiplier is std / sqrt(N) (mean-field
  readout, 1/N), and the learning rate of every parameter but the output bias is multiplied by N
  (`lr_scales`; the SGD rule of Yang & Hu 2021 for one hidden layer, the mean-field scaling).
  The prior over functions differs: the readout part of the NNGP kernel is divided by N
  (G2 = b^2 + (K - b^2) / N for an output bias of variance b^2), so the initial function
  vanishes at infinite width, and the NTK (weighted by the learning rates) moves by O(1):
  features learn.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jaxtyping import Array, Float
from numpyro import handlers

from .._errors import NNFTError
from ..architectures import Architecture, IIDNeuronArchitecture
from ..architectures.deep_mlp import DeepMLP

Theta = dict[str, Array]
PARAMETRIZATIONS = ("standard", "ntk", "mup")


def readout(arch: Architecture) -> tuple[str, int, str]:
    """The readout site, the width it averages over and the output bias site (for muP)."""
    if isinstance(arch, IIDNeuronArchitecture):
        return arch.readout_site, arch.width, arch.bias_site
    if isinstance(arch, DeepMLP):
        return f"W{arch.depth}", arch.width, f"b{arch.depth}"
    raise NNFTError(f"parametrization: 'mup' needs a readout layer of known width; {arch.name} has none")


def _prior_stds(arch: Architecture, dtype_name: str):
    """The prior's trace (key 0) returning every site's standard deviation."""

    def stds():
        tr = handlers.trace(handlers.seed(arch.prior, jax.random.key(0))).get_trace(None, jnp.dtype(dtype_name))
        return {k: jnp.sqrt(v["fn"].variance) for k, v in tr.items() if v["type"] == "sample"}

    return stds


#: `site_std` per (architecture, dtype name), at most 64
_SITE_STDS: dict = {}


def site_std(arch: Architecture, dtype=jnp.float64) -> Theta:
    """The prior standard deviation of every parameter of `arch`, by site (shape of the site);
    computed once per architecture and dtype."""
    name = jnp.dtype(dtype).name
    try:
        hash(arch)
    except TypeError:  # an array-valued field (possibly traced): computed afresh, op by op
        with jax.ensure_compile_time_eval():  # concrete constants even when called under jit
            stds = {k: np.asarray(v) for k, v in jax.jit(_prior_stds(arch, name))().items()}
        return {k: jnp.asarray(v, dtype) for k, v in stds.items()}
    with jax.ensure_compile_time_eval():  # the lookup compares scales (arrays): eagerly, even under jit
        stds = _SITE_STDS.get((arch, name))
    if stds is None:
        # one compiled program, run at once: concrete even under an outer jit (the scales are concrete
        # here). Not under ensure_compile_time_eval, which evaluates the trace op by op: 0.5-1.2 s of
        # eager compilations per architecture instead of 0.05 s (measured, every zoo entry)
        stds = {k: np.asarray(v) for k, v in jax.jit(_prior_stds(arch, name)).lower().compile()().items()}
        if len(_SITE_STDS) >= 64:
            _SITE_STDS.clear()
        _SITE_STDS[(arch, name)] = stds
    return {k: jnp.asarray(v, dtype) for k, v in stds.items()}


class Parametrized(eqx.Module):
    """`arch` trained in `parametrization` ("standard", "ntk" or "mup"): `sample_theta` draws the
    trainable parameters, `apply` maps them to the field; `prior`, `points`, `d` as an Architecture."""

    arch: Architecture
    parametrization: str = eqx.field(static=True, default="ntk")

    def __check_init__(self):
        if not isinstance(self.arch, Architecture):
            raise NNFTError(f"arch: expected an Architecture, got {type(self.arch).__name__}")
        if self.parametrization not in PARAMETRIZATIONS:
            raise NNFTError(f"parametrization: unknown {self.parametrization!r}; known: {list(PARAMETRIZATIONS)}")
        if self.parametrization == "mup":
            readout(self.arch)

    @property
    def d(self) -> int:
        return self.arch.d

    @property
    def name(self) -> str:
        return self.arch.name

    @property
    def lr_scale(self) -> float:
        """The learning-rate multiplier of the hidden and readout weights (N for muP, else 1)."""
        return float(readout(self.arch)[1]) if self.parametrization == "mup" else 1.0

    def lr_scales(self, theta: Theta) -> dict[str, float]:
        """Per-site learning-rate multipliers: `lr_scale` for every site but the output bias (1)."""
        bias = readout(self.arch)[2] if self.parametrization == "mup" else None
        return {k: 1.0 if k == bias else self.lr_scale for k in theta}

    def points(self, x, name: str = "x"):
        return self.arch.points(x, name)

    def params(self) -> dict:
        return {**self.arch.params(), "parametrization": self.parametrization}

    def multipliers(self, dtype=jnp.float64) -> Theta:
        """m_s with theta_s = m_s * omega_s, by site (ones for "standard")."""
        std = site_std(self.arch, dtype)
        if self.parametrization == "standard":
            return {k: jnp.ones_like(v) for k, v in std.items()}
        if self.parametrization == "mup":
            site, n, _ = readout(self.arch)
            std[site] = std[site] / math.sqrt(n)
        return std

    def from_theta(self, theta: Theta) -> Theta:
        """The trainable parameters of a standard-parametrisation draw theta (omega = theta / std)."""
        if self.parametrization == "standard":
            return dict(theta)
        std = site_std(self.arch, jnp.result_type(*theta.values()))
        return {k: v / std[k] for k, v in theta.items()}

    def to_theta(self, omega: Theta) -> Theta:
        """The architecture's theta for trainable parameters omega."""
        if self.parametrization == "standard":
            return dict(omega)
        m = self.multipliers(jnp.result_type(*omega.values()))
        return {k: m[k] * v for k, v in omega.items()}

    def sample_theta(self, key, dtype=jnp.float64) -> Theta:
        """One draw of the trainable parameters at initialisation."""
        return self.from_theta(self.arch.sample_theta(key, dtype))

    def apply(self, omega: Theta, x: Float[Array, "P d"] | Float[Array, " P"]) -> Float[Array, " P"]:
        """The field of trainable parameters omega at points x."""
        return self.arch.apply(self.to_theta(omega), x)

    def prior(self, x=None, dtype=jnp.float64):
        """NumPyro model: the trainable parameters as deterministic sites `omega_<site>` (drawn by the
        architecture's own prior from one `numpyro.prng_key`), and `phi` at `x` in this parametrisation."""
        with handlers.block():
            omega = self.sample_theta(numpyro.prng_key(), dtype)
        for k, v in omega.items():
            numpyro.deterministic(f"omega_{k}", v)
        if x is None:
            return None
        return numpyro.deterministic("phi", self.apply(omega, jnp.asarray(self.points(x), dtype)))
