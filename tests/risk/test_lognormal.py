"""Lognormal horizon paths: one draw of the h-day log-return sum (exact for normal daily log returns)."""

import numpy as np
import pytest
from scipy.stats import norm

from astra.errors import InputError
from astra.risk import lognormal_horizon_model, var


def test_single_name_closed_form():
    # Long e in one name, daily log returns N(0, σ²): the 10-day P&L is e·(exp(X) − 1), X ~ N(0, 10σ²),
    # monotone in X, so VaR = e·(1 − exp(√10 σ z₀.₀₁)) exactly (σ: the sample sd of log1p(r), ddof 1).
    r = np.random.default_rng(0).normal(0, 0.01, (1500, 1))
    sigma = np.std(np.log1p(r), ddof=1)
    closed = 1e6 * (1 - np.exp(np.sqrt(10) * sigma * norm.ppf(0.01)))
    res = var([1e6], r, method="mc", horizon=10, scenarios=1_000_000, seed=3, paths="lognormal")
    assert abs(res.var - closed) < 4 * res.mc_std_error["var"]
    assert res.params["paths"] == "lognormal"


def test_agrees_with_compounded_simple_returns_and_components_sum():
    # For small daily moves the two path models nearly coincide; Euler components sum to the VaR.
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, (1000, 4)) @ (np.eye(4) + 0.3)
    e = np.array([3e5, -1e5, 2e5, -2e5])
    lognormal = var(e, r, method="mc", horizon=5, scenarios=400_000, seed=2, paths="lognormal")
    compound = var(e, r, method="mc", horizon=5, scenarios=400_000, seed=2)
    assert lognormal.var == pytest.approx(compound.var, rel=0.02)
    total = sum(c["component_var"] for c in lognormal.components)
    assert total == pytest.approx(lognormal.var, rel=0.05)  # simulation components: within MC error


def test_model_scales_with_the_horizon():
    r = np.random.default_rng(4).normal(0.0005, 0.01, (800, 3))
    one, ten = lognormal_horizon_model(r, 1, include_mean=True), lognormal_horizon_model(r, 10, include_mean=True)
    np.testing.assert_allclose(ten.factor @ ten.factor.T, 10 * (one.factor @ one.factor.T), rtol=1e-12)
    np.testing.assert_allclose(ten.mean, 10 * np.log1p(r).mean(axis=0), rtol=1e-12)


def test_only_for_normal_monte_carlo():
    r = np.random.default_rng(5).normal(0, 0.01, (300, 2))
    with pytest.raises(InputError, match="lognormal"):
        var([1.0, 1.0], r, method="hist", paths="lognormal")
    with pytest.raises(InputError, match="paths"):
        var([1.0, 1.0], r, method="mc", paths="brownian")
