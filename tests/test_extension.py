"""Adding an architecture is one file and one card: a throwaway architecture defined in a
temporary module (never imported by the library) is picked up by the registry, the zoo-wide
tests, `nnft zoo` and the GPJax kernel wrapper with no other edit."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap

import numpy as np
import pytest
import test_architectures as zoo_tests
from helpers import zoo_arch, zoo_names

import nnft_ppl
from nnft_ppl import recipes
from nnft_ppl.architectures import REGISTRY, make_architecture
from nnft_ppl.cli import main
from nnft_ppl.gp import NNGPKernel

ARCH_FILE = '''
"""BayesLinear: phi(x) = b + w . x, w ~ N(0, s^2/d), b ~ N(0, t^2) (a newcomer's first entry)."""

import math

import jax.numpy as jnp
import numpyro

from nnft_ppl.architectures import Architecture
from nnft_ppl.architectures._base import normal


class BayesLinear(Architecture):
    d: int = 1
    s: float = 1.0
    t: float = 0.5

    def model(self, x, dtype):
        w = numpyro.sample("w", normal(dtype, self.s / math.sqrt(self.d)).expand([self.d]).to_event(1))
        b = numpyro.sample("b", normal(dtype, self.t))
        if x is None:
            return None
        return numpyro.deterministic("phi", self.forward({"w": w, "b": b}, jnp.asarray(x, dtype)))

    def forward(self, theta, x):
        return x @ theta["w"] + theta["b"]

    def kernel(self, x1, x2):
        return self.t**2 + self.s**2 * (x1 @ x2.T) / self.d
'''

CARD = """
name = "bayes_linear"
architecture = "BayesLinear"
summary = "Bayesian linear regression: the simplest Gaussian field"
source = "textbook"
analytic = ["nngp_kernel: t^2 + s^2 x.y/d, exact at any width"]

[parameters]
d = 1
s = 1.0
t = 0.5

[distribution]
w = "Normal(0, s^2/d)"
b = "Normal(0, t^2)"
"""


@pytest.fixture
def new_entry(tmp_path, monkeypatch):
    """Write the architecture's file and its card (beside copies of the shipped cards), import the
    file as an ordinary module, and forget it afterwards."""
    (tmp_path / "bayes_linear_mod.py").write_text(textwrap.dedent(ARCH_FILE))
    cards = tmp_path / "models"
    shutil.copytree(recipes.cards_folder(), cards)
    (cards / "bayes_linear.toml").write_text(textwrap.dedent(CARD))
    monkeypatch.setattr(recipes, "cards_folder", lambda: cards)  # the checkout's models/ folder
    spec = importlib.util.spec_from_file_location("bayes_linear_mod", tmp_path / "bayes_linear_mod.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bayes_linear_mod"] = mod
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        REGISTRY.unregister("BayesLinear")
        sys.modules.pop("bayes_linear_mod", None)


def test_new_architecture_is_picked_up_everywhere(new_entry, capsys):
    assert "BayesLinear" not in nnft_ppl.architectures.ZOO_NAMES  # not part of the shipped zoo
    assert REGISTRY["BayesLinear"] is new_entry.BayesLinear
    assert "BayesLinear" in zoo_names()  # the zoo-wide tests' parameter list
    arch = make_architecture("BayesLinear", d=2, s=1.5)

    # the zoo-wide tests run on it unchanged
    zoo_tests.test_prior_has_named_sites_and_phi_equals_apply("BayesLinear")
    zoo_tests.test_kernel_symmetric_psd("BayesLinear", np.random.default_rng(3))
    zoo_tests.test_monte_carlo_g2_matches_kernel("BayesLinear", 1)
    zoo_tests.test_one_dimensional_points_and_wrong_d("BayesLinear")
    zoo_tests.test_kernel_gradients_finite_at_coincident_points("BayesLinear")

    # `nnft zoo` lists its card
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out
    assert "bayes_linear" in out and "BayesLinear" in out
    assert recipes.zoo()["bayes_linear"]["model"] == new_entry.BayesLinear(d=1, s=1.0, t=0.5)

    # the GPJax kernel wrapper: its scales are trainable and its Gram matrix is the NNGP kernel
    k = NNGPKernel(arch)
    assert set(k.values()) == {"s", "t"}
    x = np.random.default_rng(0).normal(size=(4, 2))
    np.testing.assert_allclose(np.asarray(k.gram(x).as_matrix()), np.asarray(arch.nngp_kernel(x, x)), rtol=1e-14)
    assert zoo_arch("BayesLinear", d=2).d == 2


def test_registry_refuses_a_name_clash(tmp_path):
    """Cards and recipes name architectures by class name: a second ErfNet elsewhere is an error."""
    path = tmp_path / "clash_mod.py"
    path.write_text(
        "from nnft_ppl.architectures import AbstractSingleLayer, ACTIVATIONS\n"
        "class ErfNet(AbstractSingleLayer):\n"
        "    width: int = 3\n    d: int = 1\n    sw: float = 1.0\n    sb: float = 1.0\n"
        "    @property\n    def act(self):\n        return ACTIVATIONS['erf']\n"
    )
    spec = importlib.util.spec_from_file_location("clash_mod", path)
    with pytest.raises(nnft_ppl.NNFTError, match="ErfNet"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert REGISTRY["ErfNet"] is nnft_ppl.ErfNet
