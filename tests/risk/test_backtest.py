"""Back-tests (Kupiec, Christoffersen, Basel, Z2), rolling forecasts and stress tests vs hand references."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from astra.data import load_prices, returns
from astra.errors import InputError
from astra.risk import (
    backtest_var,
    historical_episodes,
    historical_worst_windows,
    hypothetical_shocks,
    kupiec,
    rolling_var_forecasts,
    stress_test,
    traffic_light,
    var,
)


@pytest.fixture(scope="module")
def sample_book():
    prices = load_prices(["AAPL", "JPM", "XOM"], "sample", start="2015-01-01").prices
    return np.array([1_000_000.0, -500_000.0, 300_000.0]), returns(prices), prices


def _series_with_hits(hits):
    hits = np.asarray(hits, dtype=bool)
    return np.where(hits, -2.0, 0.5), np.ones(hits.size)  # P&L −2 breaches a VaR of 1


def test_kupiec_against_hand_formula():
    t, x, p = 250, 8, 0.01
    # reference: LR = −2 ln[(1−p)^{T−x} p^x / ((1−x/T)^{T−x} (x/T)^x)], p-value from scipy.stats.chi2(1)
    lr_hand = -2 * math.log((1 - p) ** (t - x) * p**x / ((1 - x / t) ** (t - x) * (x / t) ** x))
    lr, pv = kupiec(t, x, 0.99)
    assert lr == pytest.approx(lr_hand, rel=1e-10)
    assert pv == pytest.approx(stats.chi2.sf(lr_hand, 1), rel=1e-10)
    hits = np.zeros(t, bool)
    hits[np.linspace(5, 245, x).astype(int)] = True
    res = backtest_var(*_series_with_hits(hits), 0.99)
    assert (res.n_exceptions, res.kupiec_lr) == (8, pytest.approx(lr_hand, rel=1e-10))
    # x = 0: the alternative likelihood is 1, so LR = −2 T ln(1−p)
    assert kupiec(250, 0, 0.99)[0] == pytest.approx(-2 * 250 * math.log(0.99), rel=1e-12)


def test_christoffersen_on_hand_made_sequence():
    hits = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    # transition counts read off by hand: 0→0 ×12, 0→1 ×2, 1→0 ×2, 1→1 ×3 (19 pairs)
    n00, n01, n10, n11 = 12, 2, 2, 3
    pi01, pi11, pi = n01 / (n00 + n01), n11 / (n10 + n11), (n01 + n11) / 19
    ll_null = (n00 + n10) * math.log(1 - pi) + (n01 + n11) * math.log(pi)
    ll_alt = n00 * math.log(1 - pi01) + n01 * math.log(pi01) + n10 * math.log(1 - pi11) + n11 * math.log(pi11)
    lr_ind = -2 * (ll_null - ll_alt)
    res = backtest_var(*_series_with_hits(hits), 0.95)
    assert res.transitions == {"n00": n00, "n01": n01, "n10": n10, "n11": n11}
    assert res.independence_lr == pytest.approx(lr_ind, rel=1e-10)
    assert res.independence_pvalue == pytest.approx(stats.chi2.sf(lr_ind, 1), rel=1e-10)
    # conditional coverage = POF + independence, χ²(2)
    assert res.conditional_coverage_lr == pytest.approx(res.kupiec_lr + lr_ind, rel=1e-12)
    assert res.conditional_coverage_pvalue == pytest.approx(stats.chi2.sf(res.kupiec_lr + lr_ind, 2), rel=1e-10)
    assert res.exception_index == (3, 4, 5, 11, 12)


def test_traffic_light_basel_zones():
    # reference: Basel Committee (1996) table for 250 days at 99%: green ≤ 4, yellow 5–9, red ≥ 10,
    # with cumulative probabilities 89.22%, 95.88%, 99.97%, 99.99%
    expected = {4: ("green", 0.8922), 5: ("yellow", 0.9588), 9: ("yellow", 0.9997), 10: ("red", 0.9999)}
    for x, (zone, cum) in expected.items():
        got_zone, got_cum = traffic_light(250, x, 0.99)
        assert got_zone == zone
        assert got_cum == pytest.approx(cum, abs=6e-5)
    # other lengths scale by the same binomial thresholds: 500 days at 99% → green up to 8 (P(X ≤ 8) < 95%)
    assert stats.binom.cdf(8, 500, 0.01) < 0.95 <= stats.binom.cdf(9, 500, 0.01)
    assert traffic_light(500, 8)[0] == "green" and traffic_light(500, 9)[0] == "yellow"


def test_exception_dates_from_series_index():
    dates = pd.bdate_range("2024-01-01", periods=10)
    pnl = pd.Series([0, -3, 0, 0, 0, 0, -5, 0, 0, 0], index=dates, dtype=float)
    res = backtest_var(pnl, np.full(10, 2.0), 0.95)
    assert res.exception_dates == (dates[1], dates[6])
    assert res.to_dict()["exception_dates"] == [str(dates[1]), str(dates[6])]


def test_acerbi_szekely_z2():
    pnl = np.array([1.0, -3.0, 0.5, -5.0, 2.0, -0.5, 0.0, -1.5])
    var_fc, es_fc = np.full(8, 2.0), np.full(8, 4.0)
    # reference: Z2 = Σ X_t I_t / (T (1−α) ES_t) + 1 by hand: exceptions −3 and −5, T = 8, 1−α = 0.25
    z2_hand = (-3 / 4 + -5 / 4) / (8 * 0.25) + 1
    res = backtest_var(pnl, var_fc, 0.75, es_fc, n_sim=500, seed=1)
    assert res.es_z2 == pytest.approx(z2_hand, rel=1e-12)

    rng = np.random.default_rng(7)
    x = rng.standard_normal(250)
    z, level = stats.norm.ppf(0.975), 0.975
    es_true = stats.norm.pdf(z) / 0.025
    good = backtest_var(x, np.full(250, z), level, np.full(250, es_true), n_sim=4_000, seed=0)
    bad = backtest_var(x * 2.0, np.full(250, z), level, np.full(250, es_true), n_sim=4_000, seed=0)
    assert good.es_z2_pvalue > 0.05 and not good.es_z2_reject_5pct
    assert bad.es_z2_pvalue < 0.01 and bad.es_z2_reject_5pct  # risk understated by half
    again = backtest_var(x * 2.0, np.full(250, z), level, np.full(250, es_true), n_sim=4_000, seed=0)
    assert again.es_z2_pvalue == bad.es_z2_pvalue  # seeded simulation reproduces exactly


def test_z2_simulated_critical_value_matches_published():
    # reference: Acerbi–Székely (2014): 5% critical value of Z2 ≈ −0.70 at α = 97.5%, T = 250.
    # A Z2 of −0.70 should then have a simulated p-value near 5%.
    pnl = np.zeros(250)
    pnl[:5] = -1.0  # 5 exceptions of size 1 with ES 1 → Z2 = −5/(250·0.025) + 1 = 0.2; rescale ES below
    es = np.full(250, 5.0 / (250 * 0.025 * 1.70))  # Z2 = 1 − 1.70 = −0.70
    res = backtest_var(pnl, np.full(250, 0.5), 0.975, es, n_sim=10_000, seed=3)
    assert res.es_z2 == pytest.approx(-0.70, abs=1e-12)
    assert res.es_z2_pvalue == pytest.approx(0.05, abs=0.015)


def test_rolling_forecasts_no_look_ahead(sample_book):
    e, r, _ = sample_book
    r = r.iloc[:600]
    fc = rolling_var_forecasts(e, r, method="hist", window=250, level=0.99)
    assert fc.index[0] == r.index[250] and len(fc) == 350
    # reference: var() on the 250 rows strictly before each day
    for t in (250, 400, 599):
        ref = var(e, r.iloc[t - 250 : t], method="hist", components=False)
        assert fc.loc[r.index[t], "var"] == pytest.approx(ref.var, rel=1e-12)
        assert fc.loc[r.index[t], "es"] == pytest.approx(ref.es, rel=1e-12)
        assert fc.loc[r.index[t], "pnl"] == pytest.approx(r.iloc[t].to_numpy() @ e, rel=1e-12)
    # changing day t and after leaves the forecast for day t unchanged
    shocked = r.copy()
    shocked.iloc[400:] *= 3.0
    fc2 = rolling_var_forecasts(e, shocked, method="hist", window=250)
    assert fc2["var"].iloc[: 400 - 250 + 1].equals(fc["var"].iloc[: 400 - 250 + 1])
    fcp = rolling_var_forecasts(e, r, method="param", window=250)
    ref = var(e, r.iloc[349:599], method="param", components=False)  # forecast for row 599 uses rows 349…598
    assert fcp["var"].iloc[-1] == pytest.approx(ref.var, rel=1e-10)
    fcm = rolling_var_forecasts(e, r.iloc[:260], method="mc", window=250, scenarios=2_000, seed=1)
    assert fcm["var"].equals(
        rolling_var_forecasts(e, r.iloc[:260], method="mc", window=250, scenarios=2_000, seed=1)["var"]
    )
    bt = backtest_var(fc["pnl"], fc["var"], 0.99, fc["es"], n_sim=1_000, seed=0)
    assert bt.n_obs == 350 and bt.traffic_light in ("green", "yellow", "red")


def test_backtest_bad_input():
    with pytest.raises(InputError, match="same length"):
        backtest_var(np.zeros(5), np.ones(4))
    with pytest.raises(InputError, match=r"level 1\.5"):
        backtest_var(np.zeros(5), np.ones(5), 1.5)


# ----------------------------------------------------------------------------- stress tests
def test_worst_windows_vs_brute_force(sample_book):
    e, r, _ = sample_book
    table = historical_worst_windows(e, r, windows=(1, 5))
    values = r.to_numpy()
    # reference: explicit loop over every 5-day window, compounding each name
    brute = min(float((np.prod(1 + values[t : t + 5], axis=0) - 1) @ e) for t in range(len(values) - 4))
    assert table.loc["worst_5d", "pnl"] == pytest.approx(brute, rel=1e-10)
    assert table.loc["worst_1d", "pnl"] == pytest.approx((values @ e).min(), rel=1e-12)
    assert (table.loc["worst_5d", "end"] - table.loc["worst_5d", "start"]).days >= 4


def test_episodes_replay_from_prices(sample_book):
    e, r, prices = sample_book
    table = historical_episodes(e, r)
    # sample data run 2015–2022: Covid crash and 2022 rate shock are covered, Oct 2008 is not
    assert list(table.index) == ["covid_crash", "rate_shock_2022"]
    # reference: buy-and-hold P&L straight from closes, Σ e_i (P_i(end)/P_i(start) − 1)
    for name, (lo, hi) in {
        "covid_crash": ("2020-02-19", "2020-03-23"),
        "rate_shock_2022": ("2022-01-03", "2022-06-16"),
    }.items():
        ratio = prices.loc[hi].to_numpy() / prices.loc[lo].to_numpy() - 1
        assert table.loc[name, "pnl"] == pytest.approx(ratio @ e, rel=1e-9)


def test_hypothetical_shocks(sample_book):
    e, r, _ = sample_book
    market = r.mean(axis=1).to_numpy()
    table = hypothetical_shocks(e, r, market=market)
    # reference: OLS slope from numpy.polyfit of each name on the market
    betas = np.array([np.polyfit(market, r[c].to_numpy(), 1)[0] for c in r.columns])
    assert table.loc["market_-10%", "pnl"] == pytest.approx(-0.10 * betas @ e, rel=1e-9)
    assert table.loc["market_-20%", "pnl"] == pytest.approx(-0.20 * betas @ e, rel=1e-9)
    # long/short squeeze by hand: longs 1.3e6, shorts 0.5e6
    assert table.loc["long_leg_down", "pnl"] == pytest.approx(-0.10 * 1.3e6)
    assert table.loc["short_squeeze", "pnl"] == pytest.approx(-0.10 * 0.5e6)
    assert table.loc["long_short_squeeze", "pnl"] == pytest.approx(-0.10 * 1.8e6)
    full = stress_test(e, r)
    assert {"worst_10d", "covid_crash", "market_-20%"} <= set(full.index)
    assert full["pnl_pct_gross"].loc["long_short_squeeze"] == pytest.approx(-10.0)
