"""Scales are array leaves (issue 11): `eqx.filter_grad` of a function of `nngp_kernel` with
respect to the architecture reaches every scale, equal to `jax.grad` of the same function
written with the scale as an explicit argument (to 1e-12 relative: the same computation) and to
a central finite difference (step 1e-5 relative, agreement 1e-6 relative: truncation error
O(h^2) ~ 1e-10, rounding ~1e-11 / 1e-5), for every zoo architecture; and the scales still
behave as plain floats where they are metadata (hash, params, at_width)."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import ZOO, zoo_arch

from nnft_ppl import ErfNet
from nnft_ppl.architectures import scale_names

X = np.array([[-0.7, 0.2], [0.1, -0.4], [0.5, 0.9]])
WEIGHTS = np.array([[1.0, -0.3, 0.2], [0.4, 0.8, -0.5], [0.1, 0.6, 1.3]])  # no symmetric cancellation


def _objective(arch):
    return jnp.sum(WEIGHTS * arch.nngp_kernel(X, X))


#: compiled once per architecture class (the scales are traced: other values reuse the compilation)
_value = eqx.filter_jit(_objective)
_filter_grad = eqx.filter_jit(eqx.filter_grad(_objective))


@eqx.filter_jit
def _explicit_grad(arch, name: str, v):
    """d/dv of the objective with the scale `name` passed explicitly as `v`."""
    return jax.grad(lambda v: _objective(eqx.tree_at(lambda a: getattr(a, name), arch, v)))(v)


@pytest.mark.parametrize("name", ZOO)
def test_filter_grad_reaches_every_scale(name):
    arch = zoo_arch(name, d=2)
    names = scale_names(arch)
    assert names, f"{name} has no scales"
    g = _filter_grad(arch)
    for s in names:
        v0 = float(getattr(arch, s))
        value = float(getattr(g, s))
        explicit = float(_explicit_grad(arch, s, jnp.asarray(v0)))
        h = 1e-5 * v0
        up, down = (dataclasses.replace(arch, **{s: v0 + e}) for e in (h, -h))
        fd = (float(_value(up)) - float(_value(down))) / (2 * h)
        # reached (an array leaf, not None) and finite; zero only where the kernel does not depend on
        # the scale at all (SharedScaleNet's alpha moves only the higher cumulants): there the
        # finite difference is exactly zero too
        assert np.isfinite(value) and (value != 0.0 or fd == 0.0), (name, s, value, fd)
        np.testing.assert_allclose(value, explicit, rtol=1e-12, err_msg=f"{name}.{s}")
        np.testing.assert_allclose(value, fd, rtol=1e-6, err_msg=f"{name}.{s}")


def test_scales_are_floats_as_metadata():
    a = ErfNet(width=3, sw=0.7, sb=0.3)
    assert eqx.is_inexact_array(a.sw) and a.sw.dtype == jnp.float64 and a.sw.weak_type
    assert a.params()["sw"] == 0.7 and isinstance(a.params()["sw"], float)
    assert hash(a) == hash(ErfNet(width=3, sw=0.7, sb=0.3)) and a == ErfNet(width=3, sw=0.7, sb=0.3)
    assert {a: 1}[ErfNet(width=3, sw=0.7, sb=0.3)] == 1
    assert hash(a) != hash(ErfNet(width=3, sw=0.71, sb=0.3))
    assert a.at_width(7).params() == {**a.params(), "width": 7}
    assert repr(a) == "ErfNet(width=3, sw=0.7, sb=0.3)"
    # a float32 computation with a scale stays float32 (weak type, as a Python float)
    assert (a.sw * jnp.ones(2, jnp.float32)).dtype == jnp.float32
    # the static use: an architecture as a jit static argument
    f = jax.jit(lambda arch, x: arch.nngp_kernel(x, x), static_argnums=0)
    np.testing.assert_allclose(f(a, X[:, :1]), a.nngp_kernel(X[:, :1], X[:, :1]), rtol=1e-14)
