"""Estimators that match the field's references: Acerbi–Tasche ES, Z2 decisions at the actual T, Basel zones.

References: hand-worked order statistics, the normal ES closed form φ(z)/(1−α), the BCBS (1996) table,
Acerbi–Székely (2014)'s published critical value, and the normal approximation of Z2's law whose
variance is written out from the truncated-normal moments.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from astra.risk import (
    acerbi_tasche_es,
    backtest_var,
    rolling_var_forecasts,
    simulation_components,
    tail_statistics,
    traffic_light,
    var,
    z2_null,
)


def _pnl_with_worst(n, worst):
    """n P&L values: the given worst losses, every other day a small gain."""
    pnl = np.linspace(0.1, 1.0, n)
    pnl[: len(worst)] = -np.asarray(worst, dtype=float)
    return np.random.default_rng(0).permutation(pnl)


def test_acerbi_tasche_by_hand():
    # n = 250 at 99 %: n(1−α) = 2.5, so ES = (10 + 8 + 0.5·6)/2.5 = 8.4 and VaR = the 3rd worst loss = 6
    pnl = _pnl_with_worst(250, [10.0, 8.0, 6.0, 4.0])
    out = tail_statistics(pnl, 0.99)
    assert out["var"] == 6.0 and out["es"] == pytest.approx(8.4, rel=1e-14)
    assert acerbi_tasche_es([10.0, 8.0, 6.0, 4.0], 250, 0.99) == pytest.approx(8.4, rel=1e-14)
    # a whole number: n = 200 gives n(1−α) = 2, ES = (10 + 8)/2 = 9 and VaR = 8
    out = tail_statistics(_pnl_with_worst(200, [10.0, 8.0, 6.0]), 0.99)
    assert (out["var"], out["es"]) == (8.0, pytest.approx(9.0, rel=1e-14))
    # the same estimator in var(), its Euler components and the rolling forecasts (window = the 250 days)
    r = (pnl / 1e6)[:, None]
    res = var([1e6], r, method="hist")
    assert res.var == pytest.approx(6.0, rel=1e-9) and res.es == pytest.approx(8.4, rel=1e-9)
    assert res.components[0]["component_es"] == pytest.approx(8.4, rel=1e-9)
    parts = simulation_components(r, [1e6], level=0.99)
    assert parts["es"] == pytest.approx(8.4, rel=1e-9)
    rolled = rolling_var_forecasts([1e6], np.vstack([r, [[0.0]]]), window=250)
    assert rolled["es"].iloc[-1] == pytest.approx(8.4, rel=1e-9) and rolled["var"].iloc[-1] == pytest.approx(6.0)


def test_acerbi_tasche_matches_the_normal_closed_form_and_corrects_the_old_bias():
    # reference: ES of N(0, 1) at α is φ(z_α)/(1 − α); n(1−α) = 10,000.07 is not a whole number
    n, level = 1_000_007, 0.99
    x = np.random.default_rng(1).standard_normal(n)
    out = tail_statistics(x, level)
    closed = stats.norm.pdf(stats.norm.ppf(level)) / (1 - level)
    assert abs(out["es"] - closed) < 3 * out["se_es"]
    # the old estimator (mean of the ⌈n(1−α)⌉ worst) gives the boundary loss a full weight: on 1,507 days it is
    # low by (1 − 0.07)/15.07 of ES − the 16th loss, which Acerbi–Tasche removes
    losses = np.sort(-x[:1_507])[::-1]
    old = losses[:16].mean()
    at = (losses[:15].sum() + 0.07 * losses[15]) / 15.07
    assert tail_statistics(x[:1_507], level)["es"] == pytest.approx(at, rel=1e-12) and at > old


def _z2_sd(n_obs, level):
    # Var(Z2) under a standard normal H0: with v = z_α, p = 1 − α and ES = φ(v)/p,
    # Var(X·1{X < −v})/(p ES)² = ((vφ(v) + p)/φ(v)² − 1), over T days
    v, p = stats.norm.ppf(level), 1 - level
    phi = stats.norm.pdf(v)
    return math.sqrt(((v * phi + p) / phi**2 - 1.0) / n_obs)


def test_z2_on_a_long_backtest_rejects_when_its_p_value_says_so():
    n_obs, level = 7_812, 0.975
    x = np.random.default_rng(5).standard_normal(n_obs)
    v = stats.norm.ppf(level)
    hits_sum = np.sum(x * (x < -v))
    target = -2.3 * _z2_sd(n_obs, level)  # p ≈ 0.015 (the law is skewed: Φ(−2.3) = 0.011)
    es = np.full(n_obs, hits_sum / (n_obs * (1 - level) * (target - 1.0)))  # the ES forecast giving that Z2
    res = backtest_var(x, np.full(n_obs, v), level, es, n_sim=4_000, seed=1)
    assert res.es_z2 == pytest.approx(target, rel=1e-12)
    # reference: Z2's null law simulated here with numpy alone (standard normal days, their own VaR and ES)
    rng, p, es_true = np.random.default_rng(99), 1 - level, stats.norm.pdf(v) / (1 - level)
    sims = np.concatenate([np.sum((y := rng.standard_normal((1_000, n_obs))) * (y < -v), axis=1) / (n_obs * p * es_true)
                           + 1.0 for _ in range(8)])  # fmt: skip
    assert res.es_z2_pvalue == pytest.approx(np.mean(sims <= target), abs=0.007)
    assert 0.008 < res.es_z2_pvalue < 0.025
    assert res.es_z2_reject_5pct and res.es_z2 < res.es_z2_critical_5pct
    assert res.es_z2 > -0.70  # the paper's T = 250 critical value would have kept this model
    # the simulated 5 % critical value for this T is the normal approximation's −1.645 sd
    assert res.es_z2_critical_5pct == pytest.approx(-1.645 * _z2_sd(n_obs, level), rel=0.08)


def test_z2_decisions_agree_with_p_values_at_any_length():
    rng = np.random.default_rng(2)
    for n_obs, level, scale in [(60, 0.95, 1.3), (250, 0.975, 1.1), (500, 0.99, 1.6), (1_000, 0.975, 1.0)]:
        x = rng.standard_normal(n_obs) * scale
        v = stats.norm.ppf(level)
        es = np.full(n_obs, stats.norm.pdf(v) / (1 - level))
        res = backtest_var(x, np.full(n_obs, v), level, es, n_sim=2_000, seed=3)
        assert res.es_z2_reject_5pct == (res.es_z2_pvalue <= 0.05) == (res.es_z2 < res.es_z2_critical_5pct)
        assert res.es_z2_reject_001pct is False and res.es_z2_critical_001pct is None  # 2,000 sims cannot say 0.01 %


def test_z2_critical_value_at_the_papers_setting():
    # reference: Acerbi & Székely (2014), Table 1: the 5 % critical value of Z2 is −0.70 for T = 250 at 97.5 %
    sims = z2_null(250, 0.975, n_sim=20_000, seed=4)
    assert float(np.quantile(sims, 0.05)) == pytest.approx(-0.70, abs=0.05)
    assert z2_null(250, 0.975, n_sim=20_000, seed=4) is sims  # cached


def test_basel_table_and_its_generalisation():
    # reference: BCBS (1996), Table 2: cumulative probabilities (%) for 0..10 exceptions in 250 days at 99 %
    table = [8.11, 28.58, 54.32, 75.81, 89.22, 95.88, 98.63, 99.60, 99.89, 99.97, 99.99]
    zones = ["green"] * 5 + ["yellow"] * 5 + ["red"]
    for x, (cum, zone) in enumerate(zip(table, zones, strict=True)):
        got_zone, got_cum = traffic_light(250, x, 0.99)
        assert got_zone == zone and 100 * got_cum == pytest.approx(cum, abs=0.006)
    # beyond 250 days the same cumulative-probability thresholds, from scipy's binomial law
    for n_obs in (500, 1_000, 7_812):
        first_yellow = int(stats.binom.ppf(0.95, n_obs, 0.01))
        first_yellow += stats.binom.cdf(first_yellow, n_obs, 0.01) < 0.95
        assert traffic_light(n_obs, first_yellow - 1)[0] == "green"
        assert traffic_light(n_obs, first_yellow)[0] == "yellow"


def test_coverage_and_independence_disagreeing_is_explained():
    clustered = np.zeros(500, bool)
    clustered[[100, 101, 102, 103, 104]] = True  # 5 exceptions in 500 days at 99 %: coverage fine, all back to back
    res = backtest_var(np.where(clustered, -2.0, 0.5), np.ones(500), 0.99)
    assert res.kupiec_pvalue > 0.05 and res.independence_pvalue < 0.05
    assert len(res.notes) == 1 and "cluster" in res.notes[0] and "too slowly" in res.notes[0]
    spread = np.zeros(500, bool)
    spread[::25] = True  # 20 exceptions, evenly spread: coverage rejected, independence not
    res = backtest_var(pd.Series(np.where(spread, -2.0, 0.5)), np.ones(500), 0.99)
    assert res.kupiec_pvalue < 0.05 and res.independence_pvalue > 0.05
    assert "level is off" in res.notes[0] and "too many" in res.notes[0]
    assert res.to_dict()["notes"] == list(res.notes)
