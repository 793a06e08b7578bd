"""Factor-model covariance, antithetic variates and threaded chunks in the Monte-Carlo engine.

References: the dense quadratic form eᵀΣe written out with numpy, a full ``numpy.linalg.svd``,
the generic (non-fused) path of the same draws, and the spread of estimates over seeds.
"""

import numpy as np
import pytest
from scipy.stats import norm

from astra.errors import InputError
from astra.optimize.estimators import _top_factors, risk_model
from astra.risk import lognormal_horizon_model, normal_model, sample_returns, simulate_pnl, var
from astra.risk.scenarios import covariance_model

LEVEL = 0.99


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(7)
    loadings = rng.normal(0, 1, (40, 3))
    r = rng.normal(0, 0.008, (900, 3)) @ loadings.T * 0.5 + rng.normal(0, 0.01, (900, 40))
    return r, rng.normal(0, 1e5, 40)


@pytest.mark.parametrize("shape", [(300, 40), (30, 60)])
def test_top_factors_equal_the_leading_svd_components(shape):
    x = np.random.default_rng(1).normal(size=shape)
    _, s, vt = np.linalg.svd(x, full_matrices=False)  # reference: a full SVD
    reference = vt[:5].T * s[:5]
    got = _top_factors(x, 5)
    np.testing.assert_allclose(np.abs(got), np.abs(reference), rtol=1e-8, atol=1e-10)  # columns up to sign
    np.testing.assert_allclose(got @ got.T, reference @ reference.T, rtol=1e-8, atol=1e-10)


def test_factor_covariance_is_the_optimisers_and_param_var_is_the_dense_closed_form(panel):
    r, e = panel
    f, s, _ = covariance_model(r, "factor", factors=3)
    dense = risk_model(r, "factor", factors=3).dense()
    np.testing.assert_allclose(f @ f.T + np.diag(s**2), dense, rtol=1e-12)
    res = var(e, r, method="param", level=LEVEL, covariance="factor", factors=3)
    sigma = np.sqrt(e @ dense @ e)  # reference: the dense quadratic form
    assert res.var == pytest.approx(norm.ppf(LEVEL) * sigma, rel=1e-12)
    assert res.es == pytest.approx(sigma * norm.pdf(norm.ppf(LEVEL)) / (1 - LEVEL), rel=1e-12)
    assert sum(c["component_var"] for c in res.components) == pytest.approx(res.var, rel=1e-12)
    assert res.params["covariance"] == "factor" and res.params["factors"] == 3


def test_one_day_mc_with_specific_risk_converges_to_the_closed_form(panel):
    r, e = panel
    exact = var(e, r, method="param", covariance="factor", factors=3)
    mc = var(e, r, method="mc", scenarios=400_000, seed=3, covariance="factor", factors=3)
    assert abs(mc.var - exact.var) < 3 * mc.mc_std_error["var"]
    # the linear one-day shortcut equals per-name returns times exposures, draw for draw
    model = normal_model(r, covariance="factor", factors=3)
    np.testing.assert_allclose(simulate_pnl(model, e, 5_000, seed=2), sample_returns(model, 5_000, seed=2) @ e,
                               rtol=1e-9, atol=1e-6)  # fmt: skip


def _chunk_rng(seed, index):
    # the engine's stream contract: chunk j draws from SFC64 on the j-th spawned child of SeedSequence(seed)
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed).spawn(index + 1)[index]))


def test_antithetic_twins_mirror_and_the_fused_pnl_matches_draws_replayed_by_hand(panel):
    r, e = panel
    model = normal_model(r, covariance="factor", factors=3)
    x = sample_returns(model, 4_000, seed=1, chunk_size=1_000, antithetic=True)
    for block in x.reshape(4, 1_000, -1):  # zero mean, one day: the twin of j is −j, chunk by chunk
        np.testing.assert_allclose(block[500:], -block[:500], rtol=0, atol=1e-15)  # (1 + r) − 1 rounding
    lognormal = lognormal_horizon_model(r, 10, covariance="factor", factors=3)
    pnl = simulate_pnl(lognormal, e, 6_000, seed=4, chunk_size=2_000, antithetic=True)
    k = lognormal.factor.shape[1]
    for j in range(3):  # reference: replay each chunk's normals and price them per name with numpy
        z = _chunk_rng(4, j).standard_normal((1_000, k + e.size))
        x = z[:, :k] @ lognormal.factor.T + z[:, k:] * lognormal.specific
        first = np.expm1(lognormal.mean + x) @ e
        twin = np.expm1(lognormal.mean - x) @ e
        np.testing.assert_allclose(pnl[2_000 * j : 2_000 * (j + 1)], np.concatenate([first, twin]), rtol=1e-9,
                                   atol=1e-6)  # fmt: skip


def test_compounded_paths_match_draws_replayed_by_hand(panel):
    r, e = panel
    model = normal_model(r, covariance="factor", factors=3)
    pnl = simulate_pnl(model, e, 2_000, horizon=3, seed=8, chunk_size=1_000)
    k = model.factor.shape[1]
    for j in range(2):  # reference: day by day, (1 000, k + N) normals, simple returns compounded per name
        rng = _chunk_rng(8, j)
        growth = np.ones((1_000, e.size))
        for _ in range(3):
            z = rng.standard_normal((1_000, k + e.size))
            growth *= 1.0 + z[:, :k] @ model.factor.T + z[:, k:] * model.specific
        np.testing.assert_allclose(pnl[1_000 * j : 1_000 * (j + 1)], (growth - 1.0) @ e, rtol=1e-9, atol=1e-6)


def test_threads_do_not_change_the_numbers(panel):
    r, e = panel
    model = lognormal_horizon_model(r, 10, covariance="factor", factors=3)
    one = simulate_pnl(model, e, 50_000, seed=9, chunk_size=4_000, workers=1, antithetic=True)
    two = simulate_pnl(model, e, 50_000, seed=9, chunk_size=4_000, workers=2, antithetic=True)
    np.testing.assert_array_equal(one, two)
    t_one = var(e, r, method="mc", dist="t", dof=5, horizon=3, scenarios=20_000, seed=2, workers=1)
    t_two = var(e, r, method="mc", dist="t", dof=5, horizon=3, scenarios=20_000, seed=2, workers=2)
    assert (t_one.var, t_one.es) == (t_two.var, t_two.es) and t_one.components == t_two.components


def test_antithetic_errors_match_the_spread_over_seeds_and_cover_the_closed_form():
    # Single long name, daily log returns N(0, σ²): the 10-day VaR is e·(1 − exp(√10 σ z₀.₀₁)) exactly.
    r = np.random.default_rng(0).normal(0, 0.01, (1500, 1))
    sigma = np.std(np.log1p(r), ddof=1)
    closed = 1e6 * (1 - np.exp(np.sqrt(10) * sigma * norm.ppf(0.01)))
    runs = [var([1e6], r, method="mc", horizon=10, scenarios=100_000, seed=s, paths="lognormal",
                variance_reduction="antithetic", components=False) for s in range(20)]  # fmt: skip
    estimates = np.array([x.var for x in runs])
    errors = np.array([x.mc_std_error["var"] for x in runs])
    assert np.all(np.abs(estimates - closed) < 4 * errors)
    # reference: the empirical spread of 20 independent seeds
    assert errors.mean() == pytest.approx(estimates.std(ddof=1), rel=0.35)
    es = np.array([x.es for x in runs])
    assert np.mean([x.mc_std_error["es"] for x in runs]) == pytest.approx(es.std(ddof=1), rel=0.35)
    assert sum(lo <= closed <= hi for lo, hi in (x.ci95["var"] for x in runs)) >= 17
    assert {x.variance_reduction["method"] for x in runs} == {"antithetic"}


def test_antithetic_components_still_sum_to_the_var(panel):
    r, e = panel
    res = var(e, r, method="mc", horizon=5, scenarios=200_000, seed=1, paths="lognormal", covariance="factor",
              factors=3, antithetic=True)  # fmt: skip
    assert sum(c["component_es"] for c in res.components) == pytest.approx(res.es, rel=1e-9)
    assert sum(c["component_var"] for c in res.components) == pytest.approx(res.var, rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "mc", "scenarios": 10_001, "antithetic": True}, "even number"),
        ({"method": "hist", "antithetic": True}, "antithetic"),
        ({"method": "mc", "dist": "bootstrap", "antithetic": True}, "antithetic"),
        ({"method": "mc", "covariance": "shrunk"}, "covariance"),
        ({"method": "hist", "covariance": "factor"}, "covariance"),
        ({"method": "param", "covariance": "factor", "factors": 0}, "factors"),
    ],
)
def test_bad_options_are_named(panel, kwargs, message):
    r, e = panel
    with pytest.raises(InputError, match=message):
        var(e, r, **kwargs)


def test_bad_thread_setting_is_named(panel, monkeypatch):
    r, e = panel
    monkeypatch.setenv("ASTRA_THREADS", "many")
    with pytest.raises(InputError, match="ASTRA_THREADS"):
        var(e, r, method="mc", scenarios=2_000, seed=1)


def test_merged_tail_over_many_small_chunks_equals_attribution_of_the_full_matrix(panel, monkeypatch):
    # reference: simulation_components on the whole scenario matrix (no streaming, no band, no merge)
    from astra.risk import models, simulation_components

    monkeypatch.setattr(models, "CHUNK_BUDGET_BYTES", 1)  # 1,000-scenario chunks: 30 of them, 4 blocks
    r, e = panel
    model = normal_model(r, covariance="factor", factors=3)
    full = sample_returns(model, 30_000, horizon=2, seed=5)
    expected = simulation_components(full, e, level=LEVEL)
    res = var(e, r, method="mc", horizon=2, scenarios=30_000, seed=5, covariance="factor", factors=3,
              variance_reduction="none")  # fmt: skip
    assert res.var == pytest.approx(expected["var"], rel=1e-12)  # the same scenario, found in the merged band
    assert res.es == pytest.approx(expected["es"], rel=1e-12)
    got = np.array([c["component_es"] for c in res.components])
    np.testing.assert_allclose(got, expected["component_es"], rtol=1e-9)
    np.testing.assert_allclose([c["component_var"] for c in res.components], expected["component_var"], rtol=1e-9)
    assert res.params["chunks"] == 30


def test_components_do_not_change_the_estimates(panel):
    r, e = panel
    options = {"method": "mc", "horizon": 10, "scenarios": 20_000, "seed": 6, "paths": "lognormal",
               "covariance": "factor", "factors": 3}  # fmt: skip
    with_parts, without = var(e, r, **options), var(e, r, components=False, **options)
    assert (with_parts.var, with_parts.es) == (without.var, without.es)
