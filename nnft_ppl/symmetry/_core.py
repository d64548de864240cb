"""Means with honest standard errors, and the result record every diagnostic returns.

Standard errors follow the ensemble's kind: `"iid"` draws use sd / sqrt(n); `"mcmc"`
draws use sd / sqrt(ESS) with the library's ESS (`nnft_ppl.stats.ess`) per entry; a
quantity constant over every draw has SE 0 (exact). A test of
K entries against zero computes per-entry z = estimate / se and two-sided p-values
(Student t with ESS - 1 degrees of freedom); the family is corrected with Holm's
step-down procedure, so the family p-value is min(1, K * p_min) (Holm's first step,
which equals Bonferroni's) and controls the family-wise error rate at `alpha` for any
dependence between entries.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from jaxtyping import Float
from scipy import stats as _st

from .._errors import NNFTError
from .._tensors import sorted_tuple_array
from ..stats import ALPHA_4SE, mcmc_mean_se

#: default family-wise level: one 4-standard-error comparison (the library's convention)
DEFAULT_ALPHA = ALPHA_4SE
KINDS = ("iid", "mcmc")
MIN_SAMPLES = 20


@dataclasses.dataclass
class SymmetryResult:
    """One diagnostic: entrywise estimates and errors, the family statistic and verdict.

    - `estimate`, `se`, `z`, `p_holm`: per tested entry (1-D, length `n_tests`);
    - `statistic`: the family statistic (max |z| for zero tests; one-sided z for positivity);
    - `p_value`: family-wise p-value after the Holm correction;
    - `passed`: `p_value >= alpha` (the symmetry/axiom is consistent with the data);
    - `extra`: anything a plot needs (curves, spectra), as arrays.
    """

    name: str
    estimate: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p_holm: np.ndarray
    statistic: float
    p_value: float
    alpha: float
    passed: bool
    n_tests: int
    n_eff: float
    kind: str
    note: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"

    @property
    def worst(self) -> int:
        """Index of the entry with the largest |z|."""
        return int(np.argmax(np.abs(self.z))) if self.z.size else 0

    def row(self) -> dict:
        """A summary row: the worst entry's estimate and error, the family statistic and verdict."""
        i = self.worst
        return {
            "test": self.name,
            "estimate": float(self.estimate[i]) if self.estimate.size else float("nan"),
            "se": float(self.se[i]) if self.se.size else float("nan"),
            "statistic": self.statistic,
            "n_tests": self.n_tests,
            "p_value": self.p_value,
            "verdict": self.verdict,
            "note": self.note,
        }


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NNFTError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


def mean_se(
    values: Float[np.ndarray, "C D K"], kind: str
) -> tuple[Float[np.ndarray, " K"], Float[np.ndarray, " K"], Float[np.ndarray, " K"]]:
    """Mean over (chain, draw) per entry, its standard error and the effective sample size."""
    values = np.asarray(values, np.float64)
    if values.ndim != 3:
        raise NNFTError(f"values must have shape (chain, draw, entry), got {values.shape}")
    c, d, k = values.shape
    n = c * d
    if n < MIN_SAMPLES:
        raise NNFTError(f"ensemble has {n} samples; at least {MIN_SAMPLES} are needed for a standard error")
    flat = values.reshape(n, k)
    est = flat.mean(0)
    sd = flat.std(0, ddof=1)
    if check_kind(kind) == "iid":
        n_eff = np.full(k, float(n))
    else:
        if d < 4:
            raise NNFTError(f"mcmc ensembles need at least 4 draws per chain for an ESS, got {d}")
        _, se, n_eff = mcmc_mean_se(values)
        return est, se, n_eff
    return est, sd / np.sqrt(n_eff), n_eff


def holm(p: Float[np.ndarray, " K"]) -> Float[np.ndarray, " K"]:
    """Holm step-down adjusted p-values (monotone, capped at 1)."""
    p = np.asarray(p, np.float64)
    k = p.size
    if k == 0:
        return p
    order = np.argsort(p)
    adj = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p[order]))
    out = np.empty_like(adj)
    out[order] = adj
    return out


def zero_test(
    name: str,
    values: Float[np.ndarray, "C D K"],
    kind: str,
    alpha: float = DEFAULT_ALPHA,
    note: str = "",
    extra: dict | None = None,
    reference: Float[np.ndarray, " K"] | None = None,
) -> SymmetryResult:
    """Test that every entry of E[values] vanishes (or equals `reference`), Holm-corrected.

    Entries whose samples are all identical and equal to the reference are exact
    (z = 0, p = 1): e.g. statistics that vanish identically by construction.
    """
    est, se, n_eff = mean_se(values, kind)
    return z_result(name, est, se, n_eff, kind, alpha, note, extra, reference)


def z_result(
    name: str,
    est: Float[np.ndarray, " K"],
    se: Float[np.ndarray, " K"],
    n_eff: Float[np.ndarray, " K"] | float,
    kind: str,
    alpha: float = DEFAULT_ALPHA,
    note: str = "",
    extra: dict | None = None,
    reference: Float[np.ndarray, " K"] | None = None,
) -> SymmetryResult:
    """The Holm-corrected family test of estimates with standard errors against a reference."""
    est, se = np.asarray(est, np.float64).ravel(), np.asarray(se, np.float64).ravel()
    n_eff = np.broadcast_to(np.asarray(n_eff, np.float64), est.shape)
    ref = np.zeros_like(est) if reference is None else np.asarray(reference, np.float64)
    diff = est - ref
    scale = np.maximum(np.abs(est), np.abs(ref)) + 1e-300
    exact = se <= 1e-13 * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(exact, np.where(np.abs(diff) <= 1e-12 * scale, 0.0, np.inf * np.sign(diff)), diff / se)
    dof = np.maximum(n_eff - 1.0, 1.0)
    p = 2.0 * _st.t.sf(np.abs(z), dof)
    p_adj = holm(p)
    p_fam = float(p_adj.min()) if p_adj.size else 1.0
    return SymmetryResult(
        name=name,
        estimate=est,
        se=se,
        z=z,
        p_holm=p_adj,
        statistic=float(np.max(np.abs(z))) if z.size else 0.0,
        p_value=p_fam,
        alpha=float(alpha),
        passed=bool(p_fam >= alpha),
        n_tests=int(est.size),
        n_eff=float(np.min(n_eff)) if n_eff.size else float("nan"),
        kind=kind,
        note=note,
        extra=dict(extra or {}),
    )


def index_tuples(n_sites: int, order: int) -> np.ndarray:
    """Sorted index tuples (i1 <= ... <= i_order) over `n_sites` sites: the distinct entries of G_order."""
    return sorted_tuple_array(n_sites, order)


def products(phi: Float[np.ndarray, "C D S"], tuples: np.ndarray) -> Float[np.ndarray, "C D T"]:
    """Per-sample products phi_{i1} ... phi_{ik} for each index tuple (the n-point estimator)."""
    out = np.ones(phi.shape[:2] + (tuples.shape[0],), np.float64)
    for j in range(tuples.shape[1]):
        out = out * phi[..., tuples[:, j]]
    return out
