"""Osterwalder-Schrader diagnostics beyond Euclidean invariance: reflection positivity
of the 2-point function (analytic kernel and sampled ensemble) and cluster decomposition.

Reflection theta flips the Euclidean time x_0 -> -x_0. For points with x_0 > 0 the
matrix M_ij = G2(theta x_i, x_j) must be positive semi-definite; a stationary kernel is
reflection positive iff K(t) = int e^{-E|t|} d rho(E) with rho >= 0. The Gaussian
kernel of the zoo CosNet is *not* (for two distinct times det M < 0); the Cauchy-frequency
`FreeCosNet` (kernel e^{-m|t|}, d = 1) is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from jaxtyping import Float, PRNGKeyArray
from scipy import stats as _st

from .._errors import NNFTError
from .._validate import integer
from ..stats import jackknife_se
from ._core import DEFAULT_ALPHA, SymmetryResult, mean_se, z_result
from ._data import _points, as_fields, transformed_ensemble


def reflect(x: Float[np.ndarray, "P d"]) -> Float[np.ndarray, "P d"]:
    """theta x: the time coordinate x_0 negated."""
    y = np.array(x, np.float64)
    y[:, 0] = -y[:, 0]
    return y


def _positive_time(x) -> np.ndarray:
    x = _points("x", x)
    if np.any(x[:, 0] <= 0):
        raise NNFTError("x: reflection positivity needs points with positive Euclidean time x_0 > 0")
    return x


def _result(name, lam, se, dof, alpha, kind, note, extra) -> SymmetryResult:
    z = lam / se if se > 0 else (0.0 if lam >= 0 else -np.inf)
    p = float(_st.t.cdf(z, dof)) if np.isfinite(z) else (0.0 if z < 0 else 1.0)
    return SymmetryResult(
        name=name,
        estimate=np.array([lam]),
        se=np.array([se]),
        z=np.array([z]),
        p_holm=np.array([p]),
        statistic=float(z),
        p_value=p,
        alpha=float(alpha),
        passed=bool(p >= alpha),
        n_tests=1,
        n_eff=float(dof + 1),
        kind=kind,
        note=note,
        extra=extra,
    )


def reflection_positivity_kernel(
    kernel: Callable, x: Float[np.ndarray, "P d"], rtol: float = 1e-9, alpha: float = DEFAULT_ALPHA
) -> SymmetryResult:
    """Smallest eigenvalue of M_ij = K(theta x_i, x_j) for an analytic kernel; passes if >= -rtol * max."""
    x = _positive_time(x)
    m = np.asarray(kernel(reflect(x), x), np.float64)
    if m.shape != (x.shape[0], x.shape[0]):
        raise NNFTError(f"kernel: returned shape {m.shape}, expected {(x.shape[0], x.shape[0])}")
    ev = np.linalg.eigvalsh(0.5 * (m + m.T))
    lam, top = float(ev[0]), float(max(ev[-1], 1e-300))
    res = _result(
        "reflection positivity (kernel)",
        lam,
        0.0,
        np.inf,
        alpha,
        "exact",
        f"lambda_min/lambda_max = {lam / top:.3g}",
        {"eigenvalues": ev, "eigenvalues_se": np.zeros_like(ev)},
    )
    res.passed = bool(lam >= -rtol * top)
    res.statistic = res.z[0] = lam / top
    res.p_value = 1.0 if res.passed else 0.0
    return res


def reflection_ensemble(sampler, x: Float[np.ndarray, "P d"], n: int, key: PRNGKeyArray):
    """i.i.d. draws at x and theta x on the same networks (a DataTree for `reflection_positivity_test`)."""
    x = _positive_time(x)
    return transformed_ensemble(sampler, x, reflect(x)[None], n, key, "reflection")


def _blocks(vals: np.ndarray, n_blocks: int) -> np.ndarray:
    """(chain, draw, ...) -> (n_blocks, block, ...): contiguous blocks (batch means for MCMC)."""
    flat = vals.reshape((-1,) + vals.shape[2:])
    size = flat.shape[0] // n_blocks
    return flat[: size * n_blocks].reshape((n_blocks, size) + vals.shape[2:])


def reflection_positivity_test(data, n_blocks: int = 20, alpha: float = DEFAULT_ALPHA, **kw) -> SymmetryResult:
    """Smallest eigenvalue of the sampled M_ij = G2(theta x_i, x_j) with a jackknife error bar.

    Needs fields at theta x (`reflection_ensemble`). Fails when lambda_min is significantly
    negative (one-sided Student t with n_blocks - 1 degrees of freedom). The blocks are
    contiguous in draw order, so for MCMC they act as batch means.
    """
    f = as_fields(data, **kw)
    n_blocks = integer("n_blocks", n_blocks, 4)
    if f.phi_g is None or f.x_g is None or not np.allclose(f.x_g[0], reflect(f.x)):
        raise NNFTError("data: needs fields at the reflected points theta x (see reflection_ensemble)")
    if f.n_out != 1:
        raise NNFTError("data: reflection positivity is implemented for scalar fields")
    if f.n < 2 * n_blocks:
        raise NNFTError(f"data: {f.n} samples are too few for {n_blocks} jackknife blocks")
    prod = f.phi_g[:, :, 0, :, None, 0] * f.phi[:, :, None, :, 0]  # (C, D, P, P)
    blocks = _blocks(prod, n_blocks).mean(1)  # (B, P, P)
    full = blocks.mean(0)

    def spectrum(m):
        return np.linalg.eigvalsh(0.5 * (m + np.swapaxes(m, -1, -2)))

    ev_full = spectrum(full)
    loo = (full[None] * n_blocks - blocks) / (n_blocks - 1)
    ev_loo = spectrum(loo)  # (B, P)
    b = n_blocks
    ev_jk = b * ev_full - (b - 1) * ev_loo.mean(0)
    ev_se = jackknife_se(ev_loo)
    return _result(
        "reflection positivity (ensemble)",
        float(ev_jk[0]),
        float(ev_se[0]),
        b - 1,
        alpha,
        f.kind,
        f"jackknife over {b} blocks",
        {"eigenvalues": ev_jk, "eigenvalues_se": ev_se},
    )


def cluster_ensemble(
    sampler,
    x_pair: Float[np.ndarray, "2 d"],
    distances: Float[np.ndarray, " R"],
    n: int,
    key: PRNGKeyArray,
    direction: Float[np.ndarray, " d"] | None = None,
):
    """Fields at a pair of points and at copies of the pair shifted by r * direction, same networks."""
    x = _points("x_pair", x_pair)
    if x.shape[0] != 2:
        raise NNFTError(f"x_pair must hold 2 points, got {x.shape[0]}")
    r = np.asarray(distances, np.float64).ravel()
    if r.size < 2 or np.any(r <= 0):
        raise NNFTError("distances must hold at least 2 positive separations")
    e = np.zeros(x.shape[1]) if direction is None else np.asarray(direction, np.float64)
    if direction is None:
        e[0] = 1.0
    if e.shape != (x.shape[1],) or np.linalg.norm(e) == 0:
        raise NNFTError(f"direction must be a nonzero vector of length {x.shape[1]}")
    e = e / np.linalg.norm(e)
    return transformed_ensemble(sampler, x, x[None] + r[:, None, None] * e, n, key, "cluster")


def cluster_test(data, alpha: float = DEFAULT_ALPHA, **kw) -> SymmetryResult:
    """Cluster decomposition: connected correlators between a pair and its copy at distance r decay.

    Per r: G2c(r) = Cov(phi(a1), phi(b1)) and the cross-connected 4-point function
    C4(r) = G4(a1, a2, b1, b2) - G2(a1, a2) G2(b1, b2) = Cov(phi_a1 phi_a2, phi_b1 phi_b2).
    The verdict tests both at the largest r against zero; the whole curve is in `extra`.
    """
    f = as_fields(data, **kw)
    if f.phi_g is None or f.phi.shape[2] != 2:
        raise NNFTError("data: needs a pair of points and shifted copies (see cluster_ensemble)")
    if f.n_out != 1:
        raise NNFTError("data: cluster decomposition is implemented for scalar fields")
    r = np.linalg.norm(f.x_g[:, 0] - f.x[0], axis=-1)
    a = f.phi[..., 0]
    b = f.phi_g[..., 0]  # (C, D, R, 2)

    def centred(v):
        return v - v.reshape((-1,) + v.shape[2:]).mean(0)

    g2c = centred(a[..., 0])[..., None] * centred(b[..., 0])  # (C, D, R)
    pa = centred(a[..., 0] * a[..., 1])[..., None]
    c4 = pa * centred(b[..., 0] * b[..., 1])  # (C, D, R)
    vals = np.concatenate([g2c, c4], -1)
    est, se, n_eff = mean_se(vals, f.kind)
    nr = r.size
    sel = [nr - 1, 2 * nr - 1]
    res = z_result(
        "cluster decomposition",
        est[sel],
        se[sel],
        n_eff[sel],
        f.kind,
        alpha,
        note=f"G2c and C4 at r = {r[-1]:.3g}",
        extra={"r": r, "g2c": est[:nr], "g2c_se": se[:nr], "c4": est[nr:], "c4_se": se[nr:]},
    )
    return res
