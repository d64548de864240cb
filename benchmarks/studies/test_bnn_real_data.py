"""Study (moved from tests/test_bnn.py for time: ~40 s of `make test`): NUTS on the diabetes/BMI data,
where the marginal likelihood drives sb to its boundary. The suite keeps NUTS on synthetic data
(`test_nuts_posterior_tree`: clean diagnostics, the same non-centred, readout-collapsed sampler)."""

from nnft_ppl.architectures import ErfNet
from nnft_ppl.gp import diabetes_bmi, fit_gp, input_grid, psis_loo, run_nuts


def test_real_data_converges():
    """The diabetes/BMI set: the marginal likelihood drives sb to the boundary (~1e-5), the case
    that stalled centred NUTS; the non-centred, readout-collapsed sampler must converge cleanly."""
    d = diabetes_bmi(40)
    gp = fit_gp(ErfNet(), d.x, d.y, noise=0.5, num_iters=100)
    assert gp.kernel.values()["sb"] < 1e-3
    net = gp.arch.at_width(16)
    tree = run_nuts(net, d.x, d.y, input_grid(d, 6), noise=gp.noise, num_warmup=200, num_samples=200, rng_key=1)
    assert tree.attrs["divergences"] == 0 and tree.attrs["rhat_max"] <= 1.01, tree.attrs["warnings"]
    loo = psis_loo(tree)
    assert loo["method"] == "integrated" and loo["trustworthy"], loo
