"""Analyses shared by the recipes and the notebook: the lam scan against first-order diagrams,
NUTS-vs-reweighting efficiency, and the double-well vacua/landscape. No ArviZ, no plotting."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray
from numpyro.infer.util import log_density

from .._errors import NNFTError
from .._keys import no_extra_arguments, rng_key_arg
from ..architectures import IIDNeuronArchitecture
from ..stats import ess as _ess
from ._correlators import connected4, mean_with_se
from ._lamfit import DeviationFit, fit_deviation
from ._model import Deformed
from ._perturbation import base_connected4, first_order, first_order_phi2_exact
from ._potentials import Phi4, Potential
from ._sample import DeformedRun
from ._schwinger_dyson import Phi2Response, phi2_responses


def nuts_ess_per_second(run: DeformedRun) -> tuple[float, float]:
    """(min over points of the ESS of phi (`nnft_ppl.stats.ess`), that divided by the run's wall time)."""
    ess = float(np.min(_ess(run.samples["phi"])))
    return ess, ess / run.elapsed_s


def free_phi2(arch, x) -> float:
    """The exact point-averaged <phi^2> of the undeformed ensemble at finite width: tr K / P, valid only where
    the finite-width G2 is the NNGP kernel (`arch.exact_two_point`); NNFTError otherwise (e.g. DeepMLP at
    depth >= 2, whose G2 has an O(1/N) correction)."""
    if not arch.exact_two_point:
        raise NNFTError(
            f"arch: the finite-width G2 of {arch.name} ({arch.params()}) is not its NNGP kernel (O(1/N) corrections), "
            "so tr K / P is not its free <phi^2> and no first-order comparison is exact; use an architecture whose "
            "G2 equals the kernel (e.g. a single hidden layer)"
        )
    return float(np.trace(np.asarray(arch.nngp_kernel(x, x))) / x.shape[0])


def first_order_phi2(arch, quad, x) -> tuple[float, str]:
    """The first-order shift of the point-averaged <phi^2> per unit lam for V = lam phi^4/4!, and which it is:
    exact at finite width (`first_order_phi2_exact`) for i.i.d.-neuron architectures, otherwise the diagram
    with the infinite-width propagator (exact where G2 is the kernel and the O(1/N) vertex terms vanish)."""
    free_phi2(arch, x)  # refuses where G2 is not the kernel
    if isinstance(arch, IIDNeuronArchitecture):
        return float(np.mean(first_order_phi2_exact(arch, 1.0, quad, x))), "exact at finite width"
    return float(np.trace(first_order(arch, Phi4(1.0), quad, x, 2)) / x.shape[0]), "diagram (infinite width)"


def _check_phi4(run: DeformedRun, lam: float) -> None:
    poly = run.meta.get("potential_polynomial")
    if poly is not None and poly != Phi4(lam).polynomial():
        raise NNFTError(
            f"runs: sampled with {run.meta.get('potential')}, not {Phi4(lam).describe()}; the scan compares with "
            "the first order of V = lam phi^4/4! only"
        )


def phi4_scan(runs: list[DeformedRun], lams, model: Deformed) -> list[dict]:
    """Per run of V = lam phi^4/4! (phi^4-specific: runs of another potential are refused): the point-averaged
    <phi^2> with SE, the exact free value, the first-order prediction (exact at finite width where it exists,
    see `first_order_phi2`; `first_order_kind` says which), the deviation (in SE), the G4c comparison
    (base-subtracted, against the infinite-width diagram, max |z| over distinct entries) and ESS/s.
    NNFTError where the finite-width G2 is not the kernel (`free_phi2`)."""
    arch, quad = model.arch, model.quad
    lams = [float(v) for v in lams]
    if len(lams) != len(runs):
        raise NNFTError(f"lams: {len(lams)} values for {len(runs)} runs")
    out = []
    for i, (run, lam) in enumerate(zip(runs, lams, strict=True)):
        _check_phi4(run, lam)
        x = run.x
        if i == 0 or not np.array_equal(x, runs[i - 1].x):
            free = free_phi2(arch, x)
            a1, kind = first_order_phi2(arch, quad, x)
        phi = run.samples["phi"]
        box = mean_with_se((phi**2).mean(-1))
        pred = free + a1 * lam
        g4 = connected4(phi)
        g4_pred = first_order(arch, Phi4(lam), quad, x, 4)
        g4_meas = g4.value - base_connected4(arch, x)
        ess, eps = nuts_ess_per_second(run)
        div = int(run.sample_stats["diverging"].sum())
        out.append(
            dict(
                lam=lam,
                phi2=float(box.value),
                phi2_se=float(box.se),
                free=free,
                first_order=pred,
                first_order_kind=kind,
                deviation=float(box.value - pred),
                deviation_z=float((box.value - pred) / box.se),
                shift_z=float((box.value - free) / box.se),
                g4c_measured=g4_meas,
                g4c_se=g4.se,
                g4c_first_order=g4_pred,
                g4c_max_z=float(np.max(np.abs((g4_meas - g4_pred) / g4.se))),
                ess=ess,
                ess_per_s=eps,
                elapsed_s=run.elapsed_s,
                divergences=div,
            )
        )
    return out


def lam2_fit(
    model: Deformed, runs: list[DeformedRun], lams, order: int = 3, derivatives: bool = True
) -> tuple[DeviationFit, list[Phi2Response]]:
    """The deviation of the point-averaged <phi^2> from first order, fitted over a phi^4 lam scan
    (`fit_deviation`): Schwinger-Dyson estimates of the value and (with `derivatives`) the
    lam-derivative per run, the exact lam = 0 value (the NNGP kernel, no MC error) and the first-order
    shift exact at finite width (`first_order_phi2_exact`; the diagram plus its O(1/N) vertex
    corrections) for i.i.d.-neuron architectures."""
    lams = [float(v) for v in lams]
    if len(lams) != len(runs):
        raise NNFTError(f"lams: {len(lams)} values for {len(runs)} runs")
    arch, quad = model.arch, model.quad
    x = runs[0].x
    if not isinstance(arch, IIDNeuronArchitecture):
        raise NNFTError(f"arch: lam2_fit needs i.i.d. neurons (exact first order), got {type(arch).__name__}")
    resp = phi2_responses(model, runs, lams)
    free = free_phi2(arch, x)
    a1 = float(np.mean(first_order_phi2_exact(arch, 1.0, quad, x)))
    kw = {}
    if derivatives:
        kw = dict(
            derivative=[q.slope for q in resp],
            derivative_se=[q.slope_se for q in resp],
            derivative_cov=[q.cov for q in resp],
        )
    fit = fit_deviation(
        lams, [q.value for q in resp], [q.se for q in resp], free, a1 * np.asarray(lams), order=order, **kw
    )
    return fit, resp


def first_order_breakdown(rows: list[dict], n_sigma: float = 3.0) -> float | None:
    """The smallest lam at which the sample deviates from first order by more than n_sigma SE (the first
    order of `phi4_scan`: exact at finite width where it exists, see each row's `first_order_kind`)."""
    bad = [r["lam"] for r in rows if abs(r["deviation_z"]) > n_sigma]
    return min(bad) if bad else None


def reweighting_scan(
    model: Deformed,
    x,
    rng_key: int | PRNGKeyArray | None = None,
    potentials: list[Potential] | None = None,
    num_draws: int = 10_000,
    **deprecated,
) -> list[dict]:
    """Importance reweighting of one set of prior draws by exp(-S_int) for each potential: Kish ESS,
    ESS per second (drawing time shared by all), and the reweighted point-averaged <phi^2>.
    `rng_key`: an int seed or a JAX key (`key=` is its deprecated former name)."""
    key = rng_key_arg(rng_key, deprecated, "reweighting_scan")
    no_extra_arguments(deprecated, "reweighting_scan")
    if potentials is None:
        raise NNFTError("potentials: reweighting_scan needs a list of potentials")
    x = model.arch.check_points(x)
    p = x.shape[0]
    pts = jnp.concatenate([jnp.asarray(x), jnp.asarray(model.quad.points)])

    @jax.jit
    def draw(k):
        return model.arch.sample_fields(jax.random.split(k, num_draws), pts)

    t0 = time.perf_counter()
    f = np.asarray(jax.block_until_ready(draw(key)))
    elapsed = time.perf_counter() - t0
    phi2 = (f[:, :p] ** 2).mean(-1)
    m = len(phi2)
    out = []
    for pot in potentials:
        logw = -np.asarray(model.action(jnp.asarray(f[:, p:]), pot))
        w = np.exp(logw - logw.max())
        w /= w.sum()
        kish = float(1.0 / np.sum(w**2))
        mu = float(w @ phi2)
        # paired shift from the unweighted mean of the same draws, with its delta-method SE
        infl = m * w * (phi2 - mu) - (phi2 - phi2.mean())
        row = dict(potential=pot.describe(), kish_ess=kish, ess_per_s=kish / elapsed, elapsed_s=elapsed, phi2=mu)
        row.update(phi2_shift=mu - float(phi2.mean()), phi2_shift_se=float(np.sqrt(np.sum(infl**2)) / m))
        out.append(dict(row, num_draws=num_draws))
    return out


def chain_vacua(run: DeformedRun, point: int | None = None) -> dict:
    """Per-chain mean of phi (averaged over points, or at `point`), the fraction of each chain's draws
    with phi > 0, and which chains visit both signs (tunnelling)."""
    phi = run.samples["phi"]
    v = phi.mean(-1) if point is None else phi[..., point]
    frac = (v > 0).mean(axis=1)
    return dict(chain_mean=v.mean(axis=1), frac_positive=frac, tunnels=(frac > 0.05) & (frac < 0.95))


def theta_of(run: DeformedRun, chain: int, draw: int = -1) -> dict:
    """The constrained parameter draw of one chain (sample sites only)."""
    skip = {"phi", "S_int_value"}
    return {k: jnp.asarray(v[chain, draw]) for k, v in run.samples.items() if k not in skip}


def landscape(model: Deformed, theta_a: dict, theta_b: dict, x, n: int = 41) -> dict:
    """S_int and the total action -log P_lam(theta) (up to a constant) along the straight line
    theta(t) = (1 - t) theta_a + t theta_b, t in [0, 1]."""
    if set(theta_a) != set(theta_b):
        raise NNFTError("theta_a and theta_b must have the same sites")
    xj = jnp.asarray(model.arch.check_points(x))
    ts = np.linspace(0.0, 1.0, n)

    @jax.jit
    def at(t):  # compiled once for all t (eager evaluation per t is slow)
        th = {k: (1 - t) * theta_a[k] + t * theta_b[k] for k in theta_a}
        lp, _ = log_density(model, (xj,), {}, th)
        return model.action_of_theta(th), -lp, jnp.mean(model.arch.apply(th, jnp.asarray(model.quad.points)))

    s_int, total, phi_mean = [], [], []
    for t in ts:
        s, tot, pm = at(jnp.asarray(t, xj.dtype))
        s_int.append(float(s))
        total.append(float(tot))
        phi_mean.append(float(pm))
    return dict(t=ts, s_int=np.asarray(s_int), total=np.asarray(total), box_mean_phi=np.asarray(phi_mean))
