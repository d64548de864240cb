"""Closing the loop by sampling: the effective theory (the architecture's NNGP Gaussian ensemble on the
cutoff box deformed by the inferred local coupling) sampled with `nnft_ppl.deform`'s NUTS, its
correlators compared with the ensemble's, tuple by tuple in standard errors.

The theory: phi on the observation points x and the box's quadrature nodes z_q, phi ~ N(0, K)
(`_field.gaussian_field`), weighted by exp(-S_int), S_int = sum_q w_q V(phi(z_q)) with
V = (lam/4!) :phi^4: = (lam/4!) phi^4 - (lam K(z,z)/4) phi^2 (+ const): the quartic vertex normal
ordered with respect to K (`counterterm`), i.e. the mass counterterm that keeps G2 = K at O(lam), as
the ensemble's G2 is K exactly. (A stationary kernel is needed: K(z, z) constant over the box.)

The inferred couplings of the zoo's readout-Gaussian ensembles are negative (G4c > 0), so V is
unbounded below: the theory exists as the perturbative (metastable) one around phi = 0. NUTS samples it
inside the well; a run is refused (`NNFTNumericalError`) when a chain leaves it (a field beyond
`escape` kernel standard deviations, a non-finite draw or a divergent transition).

Estimators (Schwinger-Dyson, exact for the sampled measure): with h_a = sum_q K(x_a, z_q) w_q V'(phi_q),
integrating by parts in xi gives E[phi_a F] = sum_b K_ab E[dF/dphi_b] - E[h_a F], so

    G2 = K - D,  D_ab = E[phi_b h_a]
    G4 = (1/2) sum_3 (K_ab G_cd + G_ab K_cd) - T4,  T4_abcd = E[h_a phi_b phi_c phi_d] (symmetrised)
    G6 = (1/3) sum_15 K_ab G4_cdef - T6

and the connected G4c, G6c from these moments (zero mean: V is even). Every term is O(lam) with a
per-draw spread O(lam), so the relative Monte Carlo error does not grow as lam -> 0, unlike the plain
fourth cumulant's (kept for comparison). SEs: the delta method over the per-draw statistics, with the
ESS-aware `deform.mean_with_se`, and the Pareto k-hat of each order's per-draw terms (> 0.5: the SEs
are not to be trusted; the metastable theory's excursions towards its barrier fatten the tails).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._combinatorics import pair_partitions
from .._errors import NNFTError, NNFTNumericalError
from .._tails import keep_size, max_khat
from .._tensors import sorted_tuple_array
from .._x64 import float64
from ..architectures import Architecture
from ..deform import Deformed, Mass, MCMCEstimate, Phi4, Quadrature, SumPotential, connected4, deform, mean_with_se
from ..deform import sample_scan as _sample_scan
from ..stats import jackknife_se, se_threshold
from ._correlators import Correlators
from ._field import gaussian_field
from ._local import LocalCoupling
from ._loop import Compared

_PAIRS6 = tuple(itertools.combinations(range(6), 2))
_L = "abcdef"


class SampledTheory(NamedTuple):
    """One NUTS run of the effective theory at coupling `lam` (and mass counterterm `m2`).

    `g2`, `g4c`, `g6c`: Schwinger-Dyson estimates over sorted tuples of the points (value, SE, ESS);
    `g4c_plain`: the plain fourth cumulant of the same draws (for comparison); `n_draws`;
    `max_abs_phi`: the largest |phi| over every node and draw in kernel standard deviations;
    `diverging`: divergent transitions; `khat`: {order: max Pareto k-hat of the
    estimators' per-draw terms}; `elapsed_s`: the run's wall time (compilation included)."""

    khat: dict
    lam: float
    m2: float
    x: np.ndarray
    g2: MCMCEstimate
    g4c: MCMCEstimate
    g6c: MCMCEstimate | None
    g4c_plain: MCMCEstimate
    n_draws: int
    max_abs_phi: float
    diverging: int
    elapsed_s: float


def effective_model(arch: Architecture, lam: float, quad: Quadrature, x, counterterm: bool = True) -> Deformed:
    """The effective theory as a `deform.Deformed` model: `arch`'s Gaussian ensemble on x and the nodes
    of `quad`, deformed by (lam/4!) :phi^4: (`counterterm=False`: plain phi^4)."""
    xs = arch.check_points(x)
    if not isinstance(quad, Quadrature):
        raise NNFTError("quad: expected a deform.Quadrature (e.g. action.cutoff_quadrature)")
    pts = np.concatenate([xs, np.asarray(quad.points, np.float64)], axis=0)
    field = gaussian_field(arch, pts)
    c = _node_variance(field, xs.shape[0]) if counterterm else 0.0
    return deform(field, _potential(lam, c, counterterm), quad, allow_unbounded=True)


def _node_variance(field, p: int) -> float:
    c = np.diag(field.covariance)[p:]
    if np.ptp(c) > 1e-10 * np.max(np.abs(c)):
        raise NNFTError(
            f"arch: K(z, z) varies over the box ({c.min():.4g}..{c.max():.4g}); the normal-ordering "
            "counterterm needs a stationary kernel (pass counterterm=False)"
        )
    return float(np.mean(c))


def _potential(lam: float, c: float, counterterm: bool):
    if not np.isfinite(lam):
        raise NNFTError(f"lam must be finite, got {lam!r}")
    return SumPotential((Phi4(float(lam)), Mass(-float(lam) * c / 2 if counterterm else 0.0)))


@float64
def sample_effective(
    arch: Architecture,
    couplings,
    x,
    quad: Quadrature,
    rng_key=0,
    *,
    counterterm: bool = True,
    orders=(4, 6),
    escape: float = 8.0,
    config=None,
    **kwargs,
) -> list[SampledTheory]:
    """Sample the effective theory at each coupling in `couplings` (one NUTS compilation for all, via
    `deform.sample_scan`; settings as there: `config` and/or `num_samples=`, `num_chains=`, ...) and
    estimate its G2, G4c and (6 in `orders`) G6c at the points `x`."""
    lams = [float(v) for v in np.atleast_1d(np.asarray(couplings, np.float64))]
    if not lams:
        raise NNFTError("couplings: give at least one coupling")
    xs = arch.check_points(x)
    if 6 in orders and xs.shape[0] > 3:
        raise NNFTError(f"x: the six-point estimator is for at most 3 points, got {xs.shape[0]}")
    model = effective_model(arch, lams[0], quad, xs, counterterm)
    c = _node_variance(model.arch, xs.shape[0]) if counterterm else 0.0
    pots = [_potential(v, c, counterterm) for v in lams]
    runs = _sample_scan(model, model.arch.locations[: xs.shape[0]], rng_key, pots, config, **kwargs)
    return [
        _estimate(model, run, v, pot.terms[1].m2, xs, orders, escape)
        for v, pot, run in zip(lams, pots, runs, strict=True)
    ]


def _estimate(model: Deformed, run, lam: float, m2: float, xs, orders, escape: float) -> SampledTheory:
    p = xs.shape[0]
    field = model.arch
    xi = np.asarray(run.samples["xi"], np.float64)  # (C, S, M)
    phi_all = xi @ field.factor.T
    nodes = phi_all[..., p:]
    sd = np.sqrt(np.diag(field.covariance)[p:])
    max_abs = float(np.max(np.abs(nodes) / sd)) if nodes.size else 0.0
    div = int(np.sum(run.sample_stats["diverging"]))
    if not np.all(np.isfinite(phi_all)) or div > 0 or max_abs > escape:
        raise NNFTNumericalError(
            f"lam = {lam:g}: the chains left the metastable well (max |phi|/sd = {max_abs:.3g}, {div} divergences); "
            "the perturbative theory cannot be sampled at this coupling (smaller |lam|, i.e. a larger width)"
        )
    w = np.asarray(model.quad.weights, np.float64)
    dv = lam / 6.0 * nodes**3 + m2 * nodes
    kxz = field.covariance[:p, p:]
    h = (dv * w) @ kxz.T  # (C, S, P)
    phi = phi_all[..., :p]
    g2, g4, g6, khat = _schwinger_dyson(field.covariance[:p, :p], phi, h, 6 in orders)
    plain = connected4(phi)
    t4 = tuple(sorted_tuple_array(p, 4).T)
    plain = MCMCEstimate(*(np.asarray(v)[t4] for v in plain))
    return SampledTheory(
        khat, lam, m2, xs, g2, g4, g6, plain, int(phi.shape[0] * phi.shape[1]), max_abs, div, float(run.elapsed_s)
    )


def _pair3(a, b):
    return jnp.einsum("ab,cd->abcd", a, b) + jnp.einsum("ac,bd->abcd", a, b) + jnp.einsum("ad,bc->abcd", a, b)


def _six_terms(k2, k4):
    """sum over the 15 pairs (i, j) of k2[x_i, x_j] k4[rest]."""
    out = 0.0
    for i, j in _PAIRS6:
        rest = "".join(_L[m] for m in range(6) if m not in (i, j))
        out = out + jnp.einsum(f"{_L[i]}{_L[j]},{rest}->{_L}", k2, k4)
    return out


def _wick6(g):
    out = 0.0
    for part in pair_partitions(6):
        subs = ",".join(_L[a] + _L[b] for a, b in part)
        out = out + jnp.einsum(f"{subs}->{_L}", g, g, g)
    return out


def _connected(k, dd, t4, t6):
    """G2, G4c, G6c (full tensors) from the means D, T4, T6 (module docstring)."""
    g = k - dd
    g4c = 0.5 * (_pair3(dd, g) + _pair3(g, dd)) - t4
    if t6 is None:
        return g, g4c, None
    g6 = _six_terms(k, g4c + _pair3(g, g)) / 3.0 - t6
    return g, g4c, g6 - _six_terms(g, g4c) - _wick6(g)


def _sym_products(phi, h, order):
    """(1/order) sum over the position of h of h (x) phi (x) ... (x) phi, per draw: (n, P, ..., P)."""
    letters = _L[:order]
    out = 0.0
    for i in range(order):
        ops = [h if j == i else phi for j in range(order)]
        out = out + jnp.einsum(",".join("n" + c for c in letters) + "->n" + letters, *ops)
    return out / order


def _per_draw(phi, h, six):
    out = (_sym_products(phi, h, 2), _sym_products(phi, h, 4))
    return (*out, _sym_products(phi, h, 6)) if six else out


def _schwinger_dyson(k, phi, h, six: bool, chunk: int = 8192):
    """G2, G4c, G6c over sorted tuples as `MCMCEstimate`s (delta method over the per-draw statistics)."""
    c, s, p = phi.shape
    flat_phi, flat_h = phi.reshape(-1, p), h.reshape(-1, p)
    n = flat_phi.shape[0]
    kj = jnp.asarray(k)
    stats = jax.jit(lambda a, b: _per_draw(a, b, six))
    sums = None
    for lo in range(0, n, chunk):
        part = stats(flat_phi[lo : lo + chunk], flat_h[lo : lo + chunk])
        part = jax.tree_util.tree_map(lambda v: np.asarray(v.sum(0)), part)
        sums = part if sums is None else jax.tree_util.tree_map(np.add, sums, part)
    means = jax.tree_util.tree_map(lambda v: v / n, sums)
    value, lin = jax.linearize(lambda *m: _connected(kj, *m, *(() if six else (None,))), *means)
    idx = [tuple(sorted_tuple_array(p, r).T) for r in (2, 4, 6)]

    def psi(a, b):
        m = _per_draw(a, b, six)
        tang = jax.tree_util.tree_map(lambda v, mu: v - mu, m, means)
        out = jax.vmap(lin)(*tang)
        return [(out[i] + value[i])[(slice(None), *idx[i])] for i in range(3 if six else 2)]

    psi_j = jax.jit(psi)
    parts = [psi_j(flat_phi[lo : lo + chunk], flat_h[lo : lo + chunk]) for lo in range(0, n, chunk)]
    ests, khat = [], {}
    for i in range(len(parts[0])):
        per = np.concatenate([np.asarray(pt[i]) for pt in parts], axis=0)
        dev = np.abs(per - per.mean(0)).T
        khat[2 * i + 2] = max_khat(np.partition(dev, n - keep_size(n), axis=1)[:, -keep_size(n) :], n, 1.0)
        ests.append(mean_with_se(per.reshape(c, s, -1)))
    return ests[0], ests[1], ests[2] if six else None, khat


class SampledClosure(NamedTuple):
    """The sampled effective theory against the ensemble: `g2`, `g4`, `g6` (`Compared`, None where
    not measured) with z = (measured - sampled) / sqrt(SE_jackknife(measured - lam-scaled sampled)^2 +
    SE_MCMC^2) and one Bonferroni 4-SE threshold over every compared entry."""

    coupling: float
    cutoff: float
    g2: Compared | None
    g4: Compared
    g6: Compared | None
    theory: SampledTheory

    @property
    def compared(self) -> list[Compared]:
        return [c for c in (self.g2, self.g4, self.g6) if c is not None]

    @property
    def closes(self) -> bool:
        return all(c.closes for c in self.compared)

    def summary(self) -> str:
        parts = [
            f"sampled effective theory, lam = {self.coupling:.5g} at Lambda = {self.cutoff:g}, "
            f"{self.theory.n_draws} draws"
        ]
        for name, c in (("G2", self.g2), ("G4c", self.g4), ("G6c", self.g6)):
            if c is not None:
                parts.append(
                    f"{name}: max |z| = {c.max_z:.2f} (threshold {c.threshold:.2f}), "
                    f"{int(np.sum(np.abs(c.effective) > 4 * c.effective_se))}/{len(c.z)} sampled resolved"
                )
        return "; ".join(parts) + (" -> closes" if self.closes else " -> does NOT close")


def _compare_sampled(meas, meas_r, eff: MCMCEstimate, scale_r, tuples, thr) -> Compared:
    eff_r = np.asarray(eff.value)[None, :] * scale_r[:, None]
    se = np.sqrt(np.square(jackknife_se(meas_r - eff_r)) + np.square(eff.se))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (meas - eff.value) / se, np.where(np.isclose(meas, eff.value), 0.0, np.inf))
    return Compared(tuples, meas, jackknife_se(meas_r), np.asarray(eff.value), np.asarray(eff.se), se, z, thr)


@float64
def close_loop_sampled(
    corr: Correlators, arch: Architecture, coupling: LocalCoupling, theory: SampledTheory, *, orders=(2, 4, 6), x=None
) -> SampledClosure:
    """Compare the sampled effective theory `theory` (from `sample_effective` at `coupling.mean`) with
    the ensemble's correlators `corr` (exact or measured; the coupling fitted on them): G2, G4c and
    G6c where both have them (and `orders` names them; without the counterterm G2 differs at O(lam):
    leave 2 out). The coupling's jackknife replicas scale the sampled G4c (G6c) linearly
    (quadratically), its first- (leading) order dependence on lam."""
    xs = corr.check_against(arch, x)
    if not isinstance(coupling, LocalCoupling) or not isinstance(theory, SampledTheory):
        raise NNFTError("coupling, theory: expected a LocalCoupling and a SampledTheory")
    if theory.x.shape != xs.shape or not np.allclose(theory.x, xs, rtol=0, atol=1e-12):
        raise NNFTError("theory: sampled at other points than the correlators'")
    if not np.isclose(theory.lam, coupling.mean, rtol=1e-9, atol=0):
        raise NNFTError(f"theory: sampled at lam = {theory.lam:g}, not at the coupling's {coupling.mean:g}")
    p = xs.shape[0]
    ratio = np.asarray(coupling.mean_replicas) / coupling.mean
    rows = [
        (r, est, s)
        for r, est, s in ((2, theory.g2, np.ones_like(ratio)), (4, theory.g4c, ratio), (6, theory.g6c, ratio**2))
        if est is not None and r in corr.connected and r in orders
    ]
    n = sum(len(est.value) for _, est, _ in rows)
    thr = se_threshold(n, 4.0, None if corr.exact else corr.n_blocks - 1)
    out = {}
    for r, est, scale in rows:
        t = sorted_tuple_array(p, r)
        g = corr.connected_at(r)
        cols = np.array([corr.index(r)[tuple(tt)] for tt in t])
        out[r] = _compare_sampled(g.value[cols], g.replicas[:, cols], est, scale, t, thr)
    if 4 not in out:
        raise NNFTError("corr: no connected four-point function to compare")
    return SampledClosure(float(coupling.mean), float(coupling.cutoff), out.get(2), out[4], out.get(6), theory)
