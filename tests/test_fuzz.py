"""Zero raw tracebacks: property-based fuzzing of the library's public entry points. Every call
either returns finite results or raises `NNFTError` (the properties, strategies and budgets:
`tests/fuzz_strategies.py`; the CLI and the issue-12 cases: `tests/test_fuzz_cli.py`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnft_ppl
from nnft_ppl import NNFTError
from nnft_ppl.architectures import make_architecture
from tests.fuzz_strategies import (
    BAD,
    KEYS,
    SCALES,
    WIDTHS,
    architectures,
    budget,
    build,
    count,
    finite,
    one_bad,
    points,
    returns_finite_or_nnft_error,
    targets,
)

# ---------------------------------------------------------------- architectures and kernels


@budget(40)
@given(architectures(), points(max_p=3), points(max_p=3))
def test_architectures_and_kernels(spec, x1, x2):
    arch = build(*spec)
    if arch is None:
        return
    assert isinstance(arch.d, int) and not isinstance(arch.d, bool)
    if hasattr(arch, "width"):
        assert type(arch.width) is int and arch.width >= 1, arch.width  # never a float width
    returns_finite_or_nnft_error(arch.nngp_kernel, x1, x2)


# ---------------------------------------------------------------- estimators and exact theory


@budget(12)
@given(
    architectures(),
    points(max_p=3),
    st.one_of(st.integers(16, 200), BAD, st.sampled_from([2.5, 100.0])),
    KEYS,
    st.one_of(st.integers(1, 4), BAD),
)
def test_ensemble_correlators(spec, x, n_nets, key, max_order):
    from nnft_ppl.ensemble import ensemble_correlators

    arch = build(*spec)
    if arch is None:
        return
    returns_finite_or_nnft_error(
        ensemble_correlators, arch, x, n_nets, key, max_order=max_order, n_blocks=8, progress=False
    )


@budget(10)
@given(architectures(), points(max_p=3), st.one_of(st.integers(64, 512), BAD), KEYS, st.lists(WIDTHS, max_size=2))
def test_neuron_correlators(spec, x, n, key, widths):
    from nnft_ppl.ensemble import neuron_correlators

    arch = build(*spec)
    if arch is None:
        return
    returns_finite_or_nnft_error(
        neuron_correlators, arch, x, n, key, widths=widths or None, max_order=4, n_blocks=8, progress=False
    )


@budget(15)
@given(architectures(), points(max_p=3), st.one_of(st.integers(1, 7), BAD, st.just(4.0)), st.one_of(st.none(), WIDTHS))
def test_exact_connected(spec, x, order, width):
    from nnft_ppl.theory import exact_connected

    arch = build(*spec)
    if arch is None:
        return
    returns_finite_or_nnft_error(exact_connected, arch, x, order, width=width)


# ---------------------------------------------------------------- GPs and Bayesian networks


@budget(12)
@given(
    st.sampled_from(["ErfNet", "ReLUNet", "CosNet", "GaussNet"]),
    points(d=1, max_p=8).filter(lambda x: not isinstance(x, np.ndarray) or x.size != 8 or True),
    targets(),
    st.one_of(st.none(), SCALES),
    st.sampled_from([0, 0, 1, -1, 2.5, "10"]),
    st.sampled_from(["lbfgs", "scipy", "adam", "auto", "sparse", "exact", "bfgs"]),
)
def test_fit_gp(name, x, y, noise, num_iters, which):
    from nnft_ppl.gp import fit_gp

    x = np.linspace(-1, 1, 8) if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape == (8, 1) else x
    kw = {"method": which} if which in ("auto", "sparse", "exact") else {"optimizer": which}
    if which == "sparse":
        kw["num_inducing"] = 4
    fit = returns_finite_or_nnft_error(
        fit_gp, make_architecture(name, width=3), x, y, noise=noise, num_iters=num_iters, **kw
    )
    if fit is not None:
        pred = fit.predict(np.linspace(-1.5, 1.5, 3))
        assert finite(pred) and np.isfinite(fit.log_marginal_likelihood)


@budget(15)
@given(st.data())
def test_run_nuts_bad_arguments(data):
    from nnft_ppl.gp import run_nuts

    x = np.linspace(-1, 1, 6)
    good = dict(x=x, y=np.sin(3 * x), x_test=None, num_warmup=5, num_samples=5, num_chains=2, rng_key=0)
    bad = {
        "x": points(d=2),
        "y": st.sampled_from(["y", np.ones((6, 2)), np.r_[np.nan, np.ones(5)], np.ones(4)]),
        "x_test": st.sampled_from([np.ones((2, 2)), "oops", np.array([np.inf]), np.ones(3) + 1j]),
        "num_warmup": st.sampled_from([0, -1, 2.5, "5", None]),
        "num_samples": st.sampled_from([0, -1, 2.5, "5", None]),
        "num_chains": st.sampled_from([1, 0, 2.5, "2"]),
        "rng_key": st.sampled_from([2**70, -(2**70), "0", 1.5, None, jax.random.split(jax.random.key(0), 2)]),
        "target_accept_prob": st.sampled_from([0.1, 1.0, "high", float("nan"), None]),
        "noise": st.sampled_from([0.0, -1.0, float("nan"), "a"]),
        "chain_method": st.sampled_from(["threads", 3]),
    }
    kw = one_bad(data.draw, good, bad)
    count()
    with pytest.raises(NNFTError):
        run_nuts(nnft_ppl.ErfNet(width=2), kw.pop("x"), kw.pop("y"), kw.pop("x_test"), **kw)


# ---------------------------------------------------------------- interacting theories


def _potentials():
    from nnft_ppl.deform import Custom, DoubleWell, Mass, Phi3, Phi4, Phi6

    good = st.floats(0.01, 2.0)
    return st.one_of(
        st.builds(Phi4, st.one_of(good, SCALES)),
        st.builds(Phi6, st.one_of(good, SCALES)),
        st.builds(Phi3, st.one_of(good, SCALES)),
        st.builds(Mass, st.one_of(good, SCALES)),
        st.builds(DoubleWell, st.one_of(st.just(-1.0), SCALES), st.one_of(good, SCALES)),
        st.sampled_from(
            [
                Custom(lambda p: jnp.sum(p**4)),  # a scalar, not elementwise
                Custom(lambda p: p**4 * jnp.log(jnp.abs(p))),  # NaN at zero
                Custom(lambda p: p**2),
                Custom(lambda p: jnp.ones(3)),  # wrong shape
            ]
        ),
    )


def _safe(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except NNFTError:
        return None


@budget(20)
@given(st.data())
def test_potentials_and_deformed_models(data):
    """Constructing potentials and deformed models: NNFTError or a model whose action is finite."""
    from nnft_ppl.deform import deform, make_quadrature

    pot = _safe(lambda: data.draw(_potentials()))
    if pot is None:
        return
    quad = _safe(make_quadrature, data.draw(st.sampled_from([(-1.0, 1.0), (1.0, -1.0), "box", (0.0, 0.0)])), n=4)
    if quad is None:
        return
    model = returns_finite_or_nnft_error(deform, nnft_ppl.CosNet(width=2), pot, quad)
    if model is not None:
        returns_finite_or_nnft_error(pot, jnp.linspace(-3.0, 3.0, 7))


@budget(8)
@given(st.data())
def test_sample_deformed_bad_arguments(data):
    from nnft_ppl.deform import Phi4, deform, make_quadrature, sample_deformed

    model = deform(nnft_ppl.CosNet(width=2), Phi4(0.1), make_quadrature((-1.0, 1.0), n=4))
    good = dict(x=np.linspace(-1, 1, 3), key=jax.random.key(0), num_warmup=5, num_samples=5, num_chains=2)
    bad = {
        "x": st.sampled_from(["oops", np.ones((3, 2)), np.array([np.nan, 0.0]), np.zeros((0, 1)), np.ones(3) + 1j]),
        "key": st.sampled_from([2**70, "0", 1.5, None, jax.random.split(jax.random.key(0), 2)]),
        "num_samples": st.sampled_from([0, -1, 2.5, "5"]),
        "num_chains": st.sampled_from([0, 2.5, "2"]),
        "target_accept_prob": st.sampled_from([0.0, 1.5, "high"]),
        "dtype": st.sampled_from(["float16", "int32", 3]),
    }
    kw = one_bad(data.draw, good, bad)
    count()
    with pytest.raises(NNFTError):
        sample_deformed(model, kw.pop("x"), kw.pop("key"), **kw)


# ---------------------------------------------------------------- symmetry tests


@budget(15)
@given(st.data())
def test_symmetry_tests(data):
    from nnft_ppl.symmetry import permutation_test, prior_ensemble, z2_test

    arch = build(*data.draw(architectures()))
    if arch is None:
        return
    x = data.draw(points(max_p=3))
    tree = returns_finite_or_nnft_error(prior_ensemble, arch, x, data.draw(st.sampled_from([64, 0, 2.5, "n"])), 0)
    if tree is None:
        return
    orders = data.draw(st.sampled_from([(1, 3), (1,), (2,), (), "odd"]))
    res = returns_finite_or_nnft_error(z2_test, tree, orders=orders)
    if res is not None:
        assert 0.0 <= res.p_value <= 1.0
    returns_finite_or_nnft_error(permutation_test, tree)


def test_tilted_estimator_with_an_underflowing_scale():
    """Found by benchmarks/fuzz.py: sw = 1e-267 made the tilted GaussNet estimator's Cholesky fail
    (sw^2 underflows); the covariance's square root now allows zero-variance directions."""
    from nnft_ppl.ensemble import neuron_correlators
    from nnft_ppl.theory import exact_connected

    arch = nnft_ppl.GaussNet(width=1, d=1, sw=1.2510070291265913e-267)
    ds = neuron_correlators(arch, np.array([[0.0]]), 80, key=0, max_order=4, n_blocks=8, progress=False)
    assert np.all(np.isfinite(ds.G4c.values))
    assert ds.G4c.values.ravel()[0] == exact_connected(arch, np.array([[0.0]]), 4).ravel()[0] == 0.0
    assert ds.G2.values.ravel()[0] == arch.sb**2
