"""Symmetry tests of n-point functions: Z2, translations, rotations SO(d), internal SO(D)
of vector outputs, and permutation symmetry (OS3).

Every test computes a per-network statistic whose mean vanishes under the symmetry
(e.g. phi(x+a)phi(y+a) - phi(x)phi(y) on the same network), so the noise common to
both terms cancels, and hands it to `zero_test` (Holm-corrected over entries).
"""

from __future__ import annotations

import itertools

import jax
import numpy as np
from jaxtyping import Float, PRNGKeyArray

from .._errors import NNFTError
from .._validate import integer
from ._core import DEFAULT_ALPHA, SymmetryResult, index_tuples, products, z_result, zero_test
from ._data import Fields, as_fields, transformed_ensemble


def haar_rotation(key: PRNGKeyArray, d: int) -> Float[np.ndarray, "d d"]:
    """A Haar-random rotation in SO(d): QR of a Gaussian matrix, signs fixed by diag(R), det = +1."""
    d = integer("d", d)
    g = np.asarray(jax.random.normal(key, (d, d)), np.float64)
    q, r = np.linalg.qr(g)
    q = q * np.sign(np.diag(r))[None, :]
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _sites(f: Fields, max_sites: int | None) -> np.ndarray:
    """Flatten (point, out) into sites: (chain, draw, site)."""
    phi = f.phi.reshape(f.phi.shape[0], f.phi.shape[1], -1)
    return phi if max_sites is None else phi[..., :max_sites]


def z2_test(data, orders=(1, 3), alpha: float = DEFAULT_ALPHA, max_sites: int | None = 8, **kw) -> SymmetryResult:
    """Z2 (phi -> -phi): every odd n-point function (default G1 and G3) vanishes at the points."""
    f = as_fields(data, **kw)
    if isinstance(orders, str) or not orders or not all(isinstance(o, int) and o >= 1 for o in orders):
        raise NNFTError(f"orders must be a non-empty sequence of odd integers for the Z2 test, got {orders!r}")
    if any(o % 2 == 0 for o in orders):
        raise NNFTError(f"orders must be odd for the Z2 test, got {orders}")
    phi = _sites(f, max_sites)
    vals = np.concatenate([products(phi, index_tuples(phi.shape[-1], o)) for o in orders], -1)
    return zero_test("Z2: odd G_n = 0", vals, f.kind, alpha, note=f"orders {tuple(orders)}")


def invariance_test(
    data, orders=(2, 4), alpha: float = DEFAULT_ALPHA, name: str = "invariance", max_sites: int | None = 6, **kw
) -> SymmetryResult:
    """G_n at transformed points equals G_n at the original points, for each stored transform.

    Needs `phi_g`/`x_g` (see `transformed_ensemble`): the statistic per network is
    prod phi(g x_i) - prod phi(x_i) over sorted index tuples of each order.
    """
    f = as_fields(data, **kw)
    if f.phi_g is None:
        raise NNFTError("data: no transformed fields phi_g; build the ensemble with transformed_ensemble")
    base = _sites(f, max_sites)
    vals = []
    for t in range(f.phi_g.shape[2]):
        g = f.phi_g[:, :, t].reshape(base.shape[0], base.shape[1], -1)
        g = g if max_sites is None else g[..., :max_sites]
        for o in orders:
            tup = index_tuples(base.shape[-1], o)
            vals.append(products(g, tup) - products(base, tup))
    return zero_test(
        name, np.concatenate(vals, -1), f.kind, alpha, note=f"{f.phi_g.shape[2]} transforms, orders {tuple(orders)}"
    )


def translation_test(
    sampler,
    x: Float[np.ndarray, "P d"],
    shifts: Float[np.ndarray, "S d"],
    n: int,
    key: PRNGKeyArray,
    orders=(2, 4),
    alpha: float = DEFAULT_ALPHA,
) -> SymmetryResult:
    """G_n(x + a) = G_n(x) for each shift a, on the same networks (`sampler`: Architecture or callable)."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    shifts = np.asarray(shifts, np.float64).reshape(-1, x.shape[1])
    tree = transformed_ensemble(sampler, x, x[None] + shifts[:, None], n, key, "translation")
    return invariance_test(tree, orders, alpha, name="translation: G_n(x+a) = G_n(x)")


def random_rotations(key: PRNGKeyArray, d: int, count: int) -> Float[np.ndarray, "R d d"]:
    """`count` independent Haar rotations in SO(d)."""
    return np.stack([haar_rotation(k, d) for k in jax.random.split(key, count)])


def rotation_test(
    sampler,
    x: Float[np.ndarray, "P d"],
    rotations: Float[np.ndarray, "R d d"],
    n: int,
    key: PRNGKeyArray,
    orders=(2, 4),
    alpha: float = DEFAULT_ALPHA,
) -> SymmetryResult:
    """G_n(R x) = G_n(x) for each rotation R (about the origin), on the same networks."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    rot = np.asarray(rotations, np.float64)
    if x.shape[1] < 2:
        raise NNFTError("x: rotations need input dimension d >= 2")
    if rot.ndim != 3 or rot.shape[1:] != (x.shape[1], x.shape[1]):
        raise NNFTError(f"rotations must have shape (R, {x.shape[1]}, {x.shape[1]}), got {rot.shape}")
    tree = transformed_ensemble(sampler, x, np.einsum("rij,pj->rpi", rot, x), n, key, "rotation")
    return invariance_test(tree, orders, alpha, name="rotation SO(d): G_n(Rx) = G_n(x)")


def internal_so_test(
    data,
    key: PRNGKeyArray,
    n_rotations: int = 3,
    orders=(1, 2, 4),
    alpha: float = DEFAULT_ALPHA,
    max_sites: int = 4,
    **kw,
) -> SymmetryResult:
    """Internal SO(D) of vector outputs: G_{a1..an}(x_i...) is invariant under phi_a -> R_ab phi_b.

    Per network: prod (R phi) - prod phi over sorted (point, out) site tuples, for Haar R.
    The 1-point function must vanish for D >= 2; the 2- and 4-point tensors must be
    built from Kronecker deltas in the output indices.
    """
    f = as_fields(data, **kw)
    if f.n_out < 2:
        raise NNFTError(f"data: internal SO(D) needs vector outputs (out >= 2), got out = {f.n_out}")
    vals = []
    n_points = max(1, max_sites // f.n_out)
    phi = f.phi[:, :, :n_points]
    flat = phi.reshape(phi.shape[0], phi.shape[1], -1)
    for r in random_rotations(key, f.n_out, n_rotations):
        rphi = np.einsum("ab,cdpb->cdpa", r, phi).reshape(flat.shape)
        for o in orders:
            tup = index_tuples(flat.shape[-1], o)
            vals.append(products(rphi, tup) - products(flat, tup))
    return zero_test(
        f"internal SO({f.n_out}): G_n(R phi) = G_n(phi)",
        np.concatenate(vals, -1),
        f.kind,
        alpha,
        note=f"{n_rotations} Haar rotations, {n_points} points, orders {tuple(orders)}",
    )


def permutation_diffs(correlator, se) -> tuple[np.ndarray, np.ndarray]:
    """G(permuted) - G and its error (errors of the two entries in quadrature) over every non-identity
    permutation of the axes of a stored tensor `correlator` (n axes of equal length) with errors `se`."""
    g = np.asarray(correlator, np.float64)
    if g.ndim < 2 or len(set(g.shape)) != 1:
        raise NNFTError(f"correlator: needs n >= 2 axes of equal length, got shape {g.shape}")
    try:
        s = np.broadcast_to(np.asarray(se, np.float64), g.shape)
    except ValueError:
        raise NNFTError(f"se: shape {np.shape(se)} does not broadcast to the correlator's {g.shape}") from None
    diffs, errs = [], []
    for perm in itertools.permutations(range(g.ndim)):
        if perm != tuple(range(g.ndim)):
            diffs.append((np.transpose(g, perm) - g).ravel())
            errs.append(np.sqrt(np.transpose(s, perm) ** 2 + s**2).ravel())
    return np.concatenate(diffs), np.concatenate(errs)


def permutation_test(data=None, order: int = 2, alpha: float = DEFAULT_ALPHA, correlator=None, se=None, **kw):
    """OS3, permutation symmetry: G_n(x_s(1), ..., x_s(n)) = G_n(x_1, ..., x_n).

    The test has power on a stored correlator: pass an externally estimated `correlator` tensor
    (n axes of equal length) with its `se` (the report runs it on the `G<n>`/`G<n>_se` tensors a
    results file holds). From an ensemble (`data`) the estimator is a product of commuting values
    per network, so the statistic vanishes identically: it always passes (reported exact) and is
    not part of the default report.
    """
    if correlator is not None:
        d, e = permutation_diffs(correlator, se)
        n = np.ndim(correlator)
        return z_result(f"permutation: G_{n} symmetric", d, e, np.inf, "iid", alpha, note="stored tensor")
    f = as_fields(data, **kw)
    phi = _sites(f, 6)
    m = phi.shape[-1]
    idx = np.array(list(itertools.product(range(m), repeat=order)))
    perms = [p for p in itertools.permutations(range(order)) if p != tuple(range(order))]
    vals = [products(phi, idx[:, list(p)]) - products(phi, idx) for p in perms]
    return zero_test(
        f"permutation (OS3): G_{order} symmetric",
        np.concatenate(vals, -1),
        f.kind,
        alpha,
        note="exact for ensembles of commuting fields (no power)",
    )
