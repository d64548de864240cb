"""The central abstraction: an architecture is a NumPyro prior over parameters
theta, a map `apply(theta, x)`, and the analytic infinite-width kernel.

Abstract-or-final (equinox's pattern): `Architecture` is abstract, and so are the
capabilities an architecture may declare by subclassing: `ExactCumulants` (connected
correlators known exactly at finite width) and `IIDNeuronArchitecture` (single hidden
layer of i.i.d. neurons: exact cumulants and the neuron-level estimator). Every concrete
architecture is final (one file each) and registers itself in `REGISTRY` by being
defined (see `_registry.py`).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import itertools
import math
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Float, PRNGKeyArray
from numpyro import handlers

from .._combinatorics import GAUSS_XI, cumulants_with_error
from .._errors import NNFTError
from .._validate import field_points as _field_points
from .._validate import points as _check_points

Theta = dict[str, Array]


def default_float(dtype=None) -> np.dtype:
    """`dtype`, or JAX's default float where it is `None`: float64 with `jax_enable_x64` on (inside
    the library's float64 entry points, the CLI and the tests), float32 otherwise (a user's own
    float32 NumPyro model draws in float32, with no truncation warning)."""
    if dtype is None:
        return np.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))
    return np.dtype(dtype)


def as_scale(value):
    """A prior scale as a weakly typed float64 0-d JAX array: a leaf that `jax.grad` and
    `eqx.filter_grad` reach, exact to float64 whatever the caller's `jax_enable_x64`, and weakly
    typed so that it promotes like a Python float (a float32 computation stays float32).
    Traced values pass through; anything that is not a real number is left for the field's
    check to reject with `NNFTError`."""
    if isinstance(value, jax.core.Tracer) or isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (jax.Array, np.ndarray)) and np.shape(value) != ():
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return value
    with jax.enable_x64(True):
        return jnp.asarray(v)


def _scale_fields_to_arrays(cls) -> None:
    """Every field of `cls` annotated `float` (its own, with a float default or none) becomes a
    scale: stored through `as_scale`. Runs before the dataclass is made (`__init_subclass__`)."""
    own = cls.__dict__.get("__annotations__", {})
    names = []
    for name, ann in own.items():
        if ann not in ("float", float):
            continue
        default = cls.__dict__.get(name, dataclasses.MISSING)
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            setattr(cls, name, eqx.field(default=float(default), converter=as_scale))
        elif default is dataclasses.MISSING:
            setattr(cls, name, eqx.field(converter=as_scale))
        else:
            continue
        names.append(name)
    inherited = tuple(n for b in cls.__mro__[1:] for n in b.__dict__.get("_scale_names", ()))
    cls._scale_names = tuple(dict.fromkeys((*inherited, *names)))


def scale_names(arch) -> tuple[str, ...]:
    """The architecture's (or class's) continuous prior scales: its fields annotated `float`, in
    declaration order (stored as float64 array leaves, see `as_scale`)."""
    order = [f.name for f in dataclasses.fields(arch)]
    return tuple(n for n in order if n in type(arch)._scale_names or n in getattr(arch, "_scale_names", ()))


def _plain(v):
    """A field value as a plain Python value (0-d arrays as floats) for hashing and metadata."""
    if isinstance(v, (jax.Array, np.ndarray)) and np.shape(v) == () and not isinstance(v, jax.core.Tracer):
        return float(v)
    return v


def _scale_in_default_float(v):
    if isinstance(v, jax.Array) and not isinstance(v, jax.core.Tracer) and v.weak_type and v.shape == ():
        return jnp.asarray(float(v))
    return v


def _nonzero(b) -> bool:
    """`b > 0` for a scale that may be traced (a traced scale is taken as nonzero)."""
    return isinstance(b, jax.core.Tracer) or bool(np.asarray(b) > 0)


class _Normal(dist.Normal):
    """`dist.Normal` whose draws keep the parameters' dtype (NumPyro's draw in the default float)."""

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + self.batch_shape + self.event_shape
        return _scaled_normal(key, self.loc, self.scale, shape)


@functools.partial(jax.jit, static_argnums=3)
def _scaled_normal(key, loc, scale, shape):
    """loc + scale z, z standard normal of `shape` in loc's dtype: one compiled program per shape where
    the prior is drawn outside `jit` (instead of three: the draw, the product and the sum)."""
    return loc + scale * jax.random.normal(key, shape, jnp.result_type(loc))


class _Uniform(dist.Uniform):
    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + self.batch_shape + self.event_shape
        return jax.random.uniform(key, shape, jnp.result_type(self.low), self.low, self.high)


def normal(dtype, scale) -> dist.Normal:
    """N(0, scale^2) whose draws have `dtype` (float32 for speed, float64 for tests; `None`:
    JAX's default float). NumPyro's argument validation is off: the scales are the architecture's own,
    checked when it is built, and the check would run (and compile) eagerly at every trace."""
    dtype = default_float(dtype)
    return _Normal(jnp.zeros((), dtype), jnp.asarray(scale, dtype), validate_args=False)


def uniform(dtype, low, high) -> dist.Uniform:
    """U[low, high] whose draws have `dtype`."""
    dtype = default_float(dtype)
    return _Uniform(jnp.asarray(low, dtype), jnp.asarray(high, dtype), validate_args=False)


class Architecture(eqx.Module):
    """An ensemble of networks phi_theta: R^d -> R with theta ~ P(theta).

    Subclasses implement three abstract methods, each on points already checked to have
    shape (P, d):
    - `model(x, dtype)`: the NumPyro model over theta with named sample sites; with
      points `x` it records `phi` (the field at `x`) as a deterministic site and returns it.
    - `forward(theta, x)`: the network on points `x`.
    - `kernel(x1, x2)`: the N -> infinity two-point function.

    Users call `prior`, `apply` and `nngp_kernel`, which accept (P, d) points or, for
    d = 1, a 1-D array, and reject the wrong d with `NNFTError` naming the argument.
    A final subclass is registered in `REGISTRY` under its class name; `zoo_test_params`
    are the small, fast constructor arguments the zoo-wide tests use for it.
    """

    d: eqx.AbstractVar[int]
    #: ``True`` where G2 at finite width equals `nngp_kernel` exactly (no 1/N correction).
    exact_two_point: ClassVar[bool] = True
    #: constructor arguments for the zoo-wide tests (beside width=3 and d); small and fast
    zoo_test_params: ClassVar[dict] = {}

    _scale_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        _scale_fields_to_arrays(cls)
        super().__init_subclass__(**kwargs)
        from ._registry import register

        register(cls)

    def __repr__(self) -> str:
        """`Name(field=value, ...)` for the fields that differ from their defaults, scales as floats."""
        parts = []
        for f in dataclasses.fields(self):
            v = _plain(getattr(self, f.name))
            if f.default is not dataclasses.MISSING and type(v) is type(f.default) and v == f.default:
                continue
            parts.append(f"{f.name}={v!r}")
        return f"{self.name}({', '.join(parts)})"

    def __hash__(self):
        """By type and field values (scales by their float value), so that an architecture can be a
        static argument or a dict key although its scales are arrays."""
        return hash((type(self), *(_plain(getattr(self, f.name)) for f in dataclasses.fields(self))))

    @abc.abstractmethod
    def model(self, x: Float[Array, "P d"] | None, dtype) -> Float[Array, " P"] | None:
        """NumPyro model: sample theta (and record and return `phi` at `x`, shape (P, d))."""

    @abc.abstractmethod
    def forward(self, theta: Theta, x: Float[Array, "P d"]) -> Float[Array, " P"]:
        """phi_theta(x) for one parameter draw, x of shape (P, d)."""

    @abc.abstractmethod
    def kernel(self, x1: Float[Array, "P1 d"], x2: Float[Array, "P2 d"]) -> Float[Array, "P1 P2"]:
        """The infinite-width two-point function K(x1, x2), x1 and x2 of shape (P, d)."""

    # ---- the public entry points: points checked, then the abstract methods -----------
    def prior(self, x: Float[Array, "P d"] | Float[Array, " P"] | None = None, dtype=None):
        """NumPyro model: sample theta (and record `phi` at `x`, which it returns).

        `dtype=None` draws in JAX's default float: float32 in a user's float32 program, float64
        with `jax_enable_x64` (see `default_float`)."""
        return self.in_default_float().model(None if x is None else self.points(x, "x"), default_float(dtype))

    def apply(self, theta: Theta, x: Float[Array, "P d"] | Float[Array, " P"]) -> Float[Array, " P"]:
        """phi_theta(x) for one parameter draw."""
        return self.in_default_float().forward(theta, self.points(x, "x"))

    def nngp_kernel(
        self, x1: Float[Array, "P1 d"] | Float[Array, " P1"], x2: Float[Array, "P2 d"] | Float[Array, " P2"]
    ) -> Float[Array, "P1 P2"]:
        """The infinite-width two-point function K(x1, x2)."""
        return self.in_default_float().kernel(self.points(x1, "x1"), self.points(x2, "x2"))

    def with_float_scales(self) -> Architecture:
        """This architecture with its (concrete) scales as Python floats: for a static field, e.g. a
        template in `NNGPKernel` (JAX arrays there would be hashed by value and warned about)."""
        return jax.tree_util.tree_map(_plain, self)

    def in_default_float(self) -> Architecture:
        """This architecture with its scales in JAX's default float: itself with `jax_enable_x64` on;
        in 32-bit mode, the scales as weakly typed float32 (so that a user's float32 program does not
        meet float64 values and JAX's truncation warnings). Traced scales are left as they are."""
        if jax.config.jax_enable_x64:
            return self
        return jax.tree_util.tree_map(_scale_in_default_float, self)

    def g2_correction(self, x: Float[Array, "P d"]) -> np.ndarray:
        """Finite-width G2 minus `nngp_kernel` at points x, to the order known: zero where G2 is
        exactly the kernel (`exact_two_point`); architectures with a 1/N correction override this."""
        x = self.check_points(x)
        if not self.exact_two_point:
            raise NNFTError(f"arch: no finite-width correction to G2 is known for {self.name}")
        return np.zeros((x.shape[0], x.shape[0]))

    def points(self, x, name: str = "x"):
        """`x` as (P, d) points of this architecture (1-D accepted for d = 1); works under jit."""
        return _field_points(name, x, self.d)

    # ---- shared machinery (works for any architecture) -------------------------------
    def params(self) -> dict:
        """The constructor arguments, as plain Python values (for metadata and cards; scales as
        floats); an `activation` field is recorded by its name."""
        from ._activations import get_activation

        out = {}
        for f in (fl.name for fl in dataclasses.fields(self)):
            v = _plain(getattr(self, f))
            if f == "activation":
                v = get_activation(v).name
            out[f] = v if isinstance(v, (int, float, str, bool)) else repr(v)
        return out

    def at_width(self, width: int) -> Architecture:
        """The same architecture, every other constructor argument equal, at hidden width `width`."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        if "width" not in fields:
            raise NNFTError(f"arch: {self.name} has no width to vary")
        return type(self)(**{**fields, "width": width})

    @property
    def name(self) -> str:
        return type(self).__name__

    def check_points(self, x, name: str = "x") -> np.ndarray:
        """Validate points against this architecture's input dimension."""
        return _check_points(name, x, self.d)

    def sample_theta(self, key: PRNGKeyArray, dtype=None) -> Theta:
        """One draw of theta from `prior` (`dtype=None`: JAX's default float)."""
        tr = handlers.trace(handlers.seed(self.prior, key)).get_trace(None, default_float(dtype))
        return {k: v["value"] for k, v in tr.items() if v["type"] == "sample"}

    def predicted_khat(self, x: Float[Array, "P d"], orders, n: int) -> dict[int, np.ndarray] | None:
        """Before sampling: the expected Pareto k-hat of the order-r summands |phi(x_i)|^r at each
        point for n draws, as {r: (P,) array}; `None` (the default) where no prediction exists.
        Estimators warn where it exceeds 0.5 (error bars unreliable) and name the points."""
        return None

    def sample_fields(self, keys: PRNGKeyArray, x: Float[Array, "P d"], dtype=None) -> Float[Array, "M P"]:
        """phi at `x` for one network per key (keys of shape (M,)); jit-friendly (`dtype=None`:
        JAX's default float).

        The default draws theta from the NumPyro prior; subclasses may override
        with an exactly equivalent, faster sampler.
        """

        x = self.points(x)
        dtype = default_float(dtype)

        def one(k):
            return handlers.seed(self.model, k)(jnp.asarray(x, dtype), dtype)

        return jax.vmap(one)(keys)


class ExactCumulants(Architecture):
    """Capability: the connected correlators are known exactly at finite width."""

    @abc.abstractmethod
    def exact_connected_values(
        self, x: Float[np.ndarray, "P d"], tuples: list[tuple[int, ...]], width: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """kappa(phi(x_t1), ..., phi(x_tr)) for index tuples t of one order r >= 2 (x of shape
        (P, d), float64), at `width` (default the architecture's own), and the absolute numerical
        error of each value (0 for closed forms, the quadrature's error estimate otherwise)."""


class LinearReadout(Architecture):
    """Capability: phi(x) = b + (s / sqrt(N)) sum_i w_i h_i(x), a Gaussian readout w_i ~ N(0, 1),
    b ~ N(0, bias_std^2), of a hidden layer h (N, P). D outputs with independent readouts of the
    same hidden layer (`VectorOutput`) then have G2_ab = delta_ab K and the connected four-point
    function (d_ab d_cd V_(12)(34) + d_ac d_bd V_(13)(24) + d_ad d_bc V_(14)(23)) / N."""

    width: eqx.AbstractVar[int]

    @property
    @abc.abstractmethod
    def readout_std(self) -> float:
        """Standard deviation s of sqrt(N) * w_i."""

    @property
    @abc.abstractmethod
    def bias_std(self) -> float:
        """Standard deviation of the output bias (0 for none)."""

    @abc.abstractmethod
    def hidden_model(self, dtype=jnp.float64) -> Theta:
        """NumPyro model of the hidden layers alone (named sites); returns their parameters."""

    @abc.abstractmethod
    def hidden_features(self, hidden: Theta, x: Float[Array, "P d"]) -> Float[Array, "N P"]:
        """The last hidden layer h_i(x) (N, P) of the parameters `hidden`."""

    @abc.abstractmethod
    def output_vertex4(self, x: Float[np.ndarray, "P d"]) -> tuple[np.ndarray, np.ndarray, bool]:
        """V[i, j, k, l] = V_(ij)(kl) (P, P, P, P), its absolute numerical error, and whether it
        is exact (True) or the leading order in 1/N (False)."""

    def sample_hidden_features(
        self, key: PRNGKeyArray, x: Float[Array, "P d"], dtype=jnp.float64
    ) -> Float[Array, "N P"]:
        """h (N, P) for one network drawn from `key` (subclasses may sample it faster, exactly)."""
        return self.hidden_features(handlers.seed(self.hidden_model, key)(dtype), x)

    def sample_conditional_covariances(
        self, keys: PRNGKeyArray, x: Float[Array, "P d"], dtype=None
    ) -> Float[Array, "M P P"]:
        """phi's covariance at `x` given the hidden layer, b^2 + (s^2/N) h^T h, for one network per
        key (keys of shape (M,)): given h, phi is a zero-mean Gaussian with this covariance, so
        every moment of phi given h is a hafnian of it (the readout-integrated estimator,
        `ensemble_correlators(..., collapse=True)`). The hidden layer of a key is the one the
        collapsed `sample_fields` draws from it (the first key of its split)."""
        dtype = default_float(dtype)
        x = jnp.asarray(self.points(x), dtype)

        def one(k):
            h = self.sample_hidden_features(jax.random.split(k)[0], x, dtype)
            return self.conditional_kernel(h, h)

        return jax.vmap(one)(keys)

    def conditional_kernel(self, h1: Float[Array, "N P1"], h2: Float[Array, "N P2"]) -> Float[Array, "P1 P2"]:
        """Covariance of phi given the hidden layer, (s^2/N) h1^T h2 + b^2, from the last hidden
        layer's features at two sets of points."""
        s2 = self.readout_std**2 / self.width
        return s2 * jnp.einsum("np,nq->pq", h1, h2, precision=jax.lax.Precision.HIGHEST) + self.bias_std**2


class IIDNeuronArchitecture(ExactCumulants, LinearReadout):
    """phi(x) = b + sum_{i<N} a_i h(theta_i; x), with i.i.d. neurons theta_i,
    a_i ~ N(0, readout_std^2 / N) and b ~ N(0, bias_std^2).

    The cumulants add over neurons: kappa_n(phi) = N^(1 - n/2) readout_std^n
    kappa_n(u) for n > 2, with u = w h(x), w ~ N(0, 1) (seed eq. 2.28 with
    Xi_2 = 1, Xi_4 = 3).
    """

    width: eqx.AbstractVar[int]
    readout_site: ClassVar[str] = "W1"
    bias_site: ClassVar[str] = "b1"
    # readout_std (of sqrt(N) * a_i) and bias_std: declared once, by LinearReadout

    @property
    def has_output_bias(self) -> bool:
        """Whether phi has an output bias (`bias_std` > 0); a traced scale counts as nonzero."""
        return _nonzero(self.bias_std)

    @abc.abstractmethod
    def neuron_prior(self, dtype=None) -> Theta:
        """Sample one neuron's hidden parameters (vectorised by the enclosing plate);
        return them by site name."""

    @abc.abstractmethod
    def features(self, hidden: Theta, x: Float[Array, "P d"]) -> Float[Array, "N P"]:
        """h(theta_i; x) for every neuron in `hidden` (leading neuron axis)."""

    @abc.abstractmethod
    def neuron_moment(self, x: Float[Array, "K d"]) -> float:
        """E[h(x_1) ... h(x_K)] for one neuron, exactly (closed form or quadrature)."""

    def neuron_moment_error(self, x: Float[Array, "K d"]) -> float:
        """Absolute numerical error of `neuron_moment(x)`: 0 for a closed form (the default);
        architectures whose moments come from quadrature return its error estimate."""
        return 0.0

    # ---- generic pieces --------------------------------------------------------------
    def model(self, x, dtype):
        n = self.width
        with numpyro.plate("neurons", n):
            theta = dict(self.neuron_prior(dtype))
            theta[self.readout_site] = numpyro.sample(self.readout_site, normal(dtype, self.readout_std / math.sqrt(n)))
        if self.has_output_bias:
            theta[self.bias_site] = numpyro.sample(self.bias_site, normal(dtype, self.bias_std))
        if x is None:
            return None
        phi = self.forward(theta, jnp.asarray(x, dtype))
        return numpyro.deterministic("phi", phi)

    def hidden_model(self, dtype=jnp.float64) -> Theta:
        with numpyro.plate("neurons", self.width):
            return self.neuron_prior(dtype)

    def hidden_features(self, hidden, x):
        return self.features(hidden, x)

    def output_vertex4(self, x):
        """Exact: V_(ij)(kl) = s^4 (E[h_i h_j h_k h_l] - E[h_i h_j] E[h_k h_l]) from the neuron moments."""
        x = np.asarray(x, np.float64)
        p = x.shape[0]
        table = self.neuron_moments_table(x, with_error=True)
        v, e = np.empty((p,) * 4), np.empty((p,) * 4)
        for i, j, k, m in itertools.product(range(p), repeat=4):
            (m4, e4), (a, ea), (b, eb) = table((i, j, k, m)), table((i, j)), table((k, m))
            v[i, j, k, m] = m4 - a * b
            e[i, j, k, m] = e4 + abs(a) * eb + abs(b) * ea
        s4 = self.readout_std**4
        return s4 * v, s4 * e, True

    def hidden_sites(self, theta: Theta) -> Theta:
        return {k: v for k, v in theta.items() if k not in (self.readout_site, self.bias_site)}

    def forward(self, theta, x):
        h = self.features(self.hidden_sites(theta), x)
        out = jnp.einsum("n,np->p", theta[self.readout_site], h, precision=jax.lax.Precision.HIGHEST)
        if self.has_output_bias:
            out = out + theta[self.bias_site]
        return out

    def sample_hidden(self, key, dtype=None) -> Theta:
        """One network's hidden parameters (all N neurons)."""
        dtype = default_float(dtype)

        def model():
            with numpyro.plate("neurons", self.width):
                return self.neuron_prior(dtype)

        return handlers.seed(model, key)()

    def sample_fields(self, keys, x, dtype=None):
        """Exact collapsed sampler: given the hidden layer, phi is Gaussian with
        covariance (s^2/N) H^T H + b^2, so the readout is drawn in P dimensions
        instead of N (exact in distribution; used when N > P)."""
        dtype = default_float(dtype)
        x = jnp.asarray(self.points(x), dtype)
        n, p = self.width, x.shape[0]
        if n <= p or p > 32:
            return super().sample_fields(keys, x, dtype)

        def one(k):
            k1, k2 = jax.random.split(k)
            h = self.features(self.sample_hidden(k1, dtype), x)
            gram = self.conditional_kernel(h, h)
            eps = jax.random.normal(k2, (p,), dtype)
            return _psd_cholesky(gram) @ eps

        return jax.vmap(one)(keys)

    def sample_neuron_features(self, keys, x, dtype=None):
        """h(theta; x) for one independent neuron per key: (M, P)."""
        dtype = default_float(dtype)
        x = jnp.asarray(self.points(x), dtype)

        def one(k):
            def model():
                with numpyro.plate("neurons", 1):
                    return self.neuron_prior(dtype)

            return self.features(handlers.seed(model, k)(), x)[0]

        return jax.vmap(one)(keys)

    def kernel(self, x1, x2):
        return compiled_kernel(self, jnp.asarray(x1), jnp.asarray(x2), _pairwise_neuron_kernel)

    def neuron_moments_table(self, x: Float[Array, "P d"], with_error: bool = False) -> Callable:
        """Memoised E[h(x_{i1})...h(x_{ik})] over (sorted) index tuples of the points x (with
        `with_error`, the pair (value, absolute error))."""
        x = np.asarray(x, np.float64)
        cache = _moment_cache(self, x, with_error)

        def moment(idx: tuple[int, ...]):
            key = tuple(sorted(idx))
            if key not in cache:
                pts = jnp.asarray(x[list(key)])
                err = float(self.neuron_moment_error(pts)) if with_error else 0.0
                cache[key] = (float(self.neuron_moment(pts)), err)
            return cache[key] if with_error else cache[key][0]

        return moment

    def exact_connected_values(self, x, tuples, width=None):
        """kappa_r(phi) = N^(1 - r/2) s^r kappa_r(w h) for r > 2 (b^2 + s^2 E[h h] for r = 2), with
        kappa_r(w h) from the neuron moments and the standard-normal readout's moments Xi_k; the
        error propagates the neuron moments' errors to first order (a bound)."""
        order = len(tuples[0])
        n = self.width if width is None else width
        table = self.neuron_moments_table(x, with_error=True)
        vals, errs = cumulants_with_error(order, tuples, lambda sub: _xi_moment(table, sub))
        s, b = self.readout_std, self.bias_std
        if order == 2:
            return b**2 + s**2 * vals, s**2 * errs
        scale = n ** (1 - order / 2) * s**order
        return scale * vals, scale * errs


#: neuron moments already computed, per (architecture, points, with errors): exact cumulants of several
#: orders at the same points (a width scan's orders 4 and 6, the calibration's 2, 4 and 6) share them
_MOMENT_CACHES: dict = {}


def _moment_cache(arch, x: np.ndarray, with_error: bool) -> dict:
    """The memo of `arch`'s neuron moments at the points `x` (a fresh one where `arch` is unhashable)."""
    key = (arch, x.shape, x.tobytes(), bool(with_error), bool(jax.config.jax_enable_x64))
    try:
        cache = _MOMENT_CACHES.get(key)
    except TypeError:  # a field that is an array: no memo across calls
        return {}
    if cache is None:
        if len(_MOMENT_CACHES) >= 64:
            _MOMENT_CACHES.clear()
        cache = _MOMENT_CACHES[key] = {}
    return cache


def _xi_moment(table, sub: tuple[int, ...]) -> tuple[float, float]:
    """E[(w h)(x_sub)] = Xi_|sub| E[h...h] and its error, for the readout w ~ N(0, 1)."""
    v, e = table(sub)
    xi = GAUSS_XI[len(sub)]
    return xi * v, abs(xi) * e


def _psd_cholesky(a: Float[Array, "P P"]) -> Float[Array, "P P"]:
    """Lower factor L with L L^T = a for a positive *semi*-definite a.

    A pivot that is zero to rounding gets a zero column, so rank-deficient
    matrices (repeated points, dead ReLU neurons) are factored exactly. One column per loop
    step: the program's size does not grow with P (an unrolled factorisation compiled in
    ~0.15 s at P = 5 and 3 s at P = 24, this one in ~0.1 s at any P, and runs no slower).
    """
    p = a.shape[0]
    tol = jnp.finfo(a.dtype).eps * 64 * jnp.max(jnp.abs(jnp.diag(a)))
    rows = jnp.arange(p)

    def column(j, low):
        lj = a[:, j] - low @ low[j, :]  # the columns of `low` from j on are still zero
        piv = lj[j]
        ok = piv > tol
        inv = jnp.where(ok, jax.lax.rsqrt(jnp.where(ok, piv, 1.0)), 0.0)
        return low.at[:, j].set(lj * inv * (rows >= j).astype(a.dtype))

    return jax.lax.fori_loop(0, p, column, jnp.zeros_like(a))


@eqx.filter_jit
def compiled_kernel(arch, x1, x2, kernel_fn):
    """`kernel_fn(arch, x1, x2)` as one compiled program per architecture type and shapes (the scales are
    traced leaves), instead of one compilation per primitive and shape outside `jit`."""
    return kernel_fn(arch, x1, x2)


def _pairwise_neuron_kernel(arch, x1, x2):
    """b^2 + s^2 E[h(x1_i) h(x2_j)] from the neuron moment at each pair of points."""
    pair = jax.vmap(jax.vmap(lambda u, v: arch.neuron_moment(jnp.stack([u, v])), (None, 0)), (0, None))
    return arch.bias_std**2 + arch.readout_std**2 * pair(x1, x2)
