"""Pair scan, hold logic, back-test and metrics against statsmodels, hand-worked trades and closed forms."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.adfvalues import mackinnonp
from statsmodels.tsa.stattools import coint

from astra.data import load_prices
from astra.errors import InputError
from astra.funding import FundingTerms
from astra.statarb.backtest import backtest
from astra.statarb.metrics import lo_sharpe_interval, metrics
from astra.statarb.scan import benjamini_hochberg, mackinnon_pvalue, scan
from astra.statarb.signals import SignalRules, hold_positions


# ---------------------------------------------------------------- scan
@pytest.fixture(scope="module")
def sample_prices():
    return load_prices(["AAPL", "MSFT", "JPM", "BAC", "XOM", "CVX", "KO", "PEP"], "sample", start="2018-01-01").prices


@pytest.mark.parametrize("lags", [0, 1, 3])
def test_engle_granger_matches_statsmodels(sample_prices, lags):
    result = scan(sample_prices, maxlag=lags).table
    logs = np.log(sample_prices.dropna())
    for _, row in result.head(6).iterrows():
        stat, pvalue, _ = coint(logs[row.y], logs[row.x], maxlag=lags, autolag=None)
        assert row.eg_stat == pytest.approx(stat, rel=1e-9)
        assert row.p_value == pytest.approx(pvalue, abs=1e-9)


def test_mackinnon_pvalues_match_statsmodels():
    stats = np.linspace(-7, 3, 41)
    np.testing.assert_allclose(mackinnon_pvalue(stats), [mackinnonp(s, "c", 2) for s in stats], atol=1e-12)


def test_benjamini_hochberg_against_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(0).uniform(0, 0.2, 200) ** 2
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12)


def test_scan_ranks_and_filters(sample_prices):
    full = scan(sample_prices)
    assert len(full.table) == 28  # 8 names → 8·7/2 pairs
    assert full.table["p_value"].is_monotonic_increasing
    kept = scan(sample_prices, fdr=0.5, only_discoveries=True).table
    assert (kept["q_value"] <= 0.5).all()
    with pytest.raises(InputError, match="fdr"):
        scan(sample_prices, fdr=1.5)


def test_half_life_of_a_simulated_ar1_spread():
    # Spread e_t = φ e_{t-1} + η with φ = 0.9 → half-life −ln 2 / ln 0.9 = 6.58 bars.
    rng = np.random.default_rng(1)
    n = 20_000
    x = np.cumsum(rng.normal(0, 0.01, n)) + 5
    e = np.zeros(n)
    for t in range(1, n):
        e[t] = 0.9 * e[t - 1] + rng.normal(0, 0.005)
    prices = pd.DataFrame({"Y": np.exp(1.5 * x + e), "X": np.exp(x)})
    row = scan(prices).table.iloc[0]
    assert row.beta == pytest.approx(1.5, abs=0.01)
    assert row.half_life_bars == pytest.approx(-np.log(2) / np.log(0.9), rel=0.05)
    assert row.p_value < 1e-6


# ---------------------------------------------------------------- signals
def test_hold_logic_hand_sequence():
    z = np.array([0, 2.5, 1.0, 0.4, -2.2, -1.0, -4.5, -3.0, -1.5, -2.1, 0.0, 3.0, 3.0, 3.0])
    rules = SignalRules(entry=2, exit=0.5, stop=4, warmup=0, max_hold=2)
    # t1 enter short; t3 exit (0.4 ≤ 0.5); t4 enter long; t6 stop (−4.5) and cool down until
    # |z| < 2 (t8); t9 enter long; t10 exit (0 ≥ −0.5); t11 enter short; max_hold 2 → t13 flat;
    # t13 is flat at decision time and z = 3 > entry re-enters immediately.
    assert hold_positions(z, rules).tolist() == [0, -1, -1, 0, 1, 1, 0, 0, 0, 1, 0, -1, -1, -1]


def test_session_rules():
    index = pd.DatetimeIndex(
        ["2026-03-02 09:31", "2026-03-02 09:32", "2026-03-02 09:33", "2026-03-03 09:31", "2026-03-03 09:32"]
    )
    z = np.array([3.0, 3.0, 3.0, 3.0, 3.0])
    flat = SignalRules(entry=2, exit=0.5, stop=10, warmup=0, flat_at_close=True)
    assert hold_positions(z, flat, index).tolist() == [-1, -1, 0, -1, 0]
    quiet = SignalRules(entry=2, exit=0.5, stop=10, warmup=0, quiet_bars=1)
    assert hold_positions(z, quiet, index).tolist() == [0, -1, -1, -1, -1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"entry": 1, "exit": 1}, "hysteresis"), ({"stop": 1.5}, "--stop"), ({"warmup": -1}, "warmup")],
)
def test_bad_rules(kwargs, match):
    with pytest.raises(InputError, match=match):
        SignalRules(**kwargs)


# ---------------------------------------------------------------- back-test
def legs(py, px):
    index = pd.date_range("2026-03-02", periods=len(py), freq="B")
    return pd.Series(py, index=index, dtype=float), pd.Series(px, index=index, dtype=float)


def test_pnl_of_a_hand_computed_trade():
    # Decide long spread at bar 0 (β = 2), filled at bar 1, exit decided at bar 2, filled at bar 3.
    # Sizing with bar-0 prices: units = 1,000 / (10 + 2·5) = 50 → +50 y, −100 x from bar 1.
    # Bar 2: 50·(12 − 11) − 100·(5.5 − 5.2) = 50 − 30 = 20; bar 3: 50·(11 − 12) − 100·(5 − 5.5) = 0.
    # Costs at 10 bp: entry at bar 1 (50·11 + 100·5.2) = 1,070 → 1.07; exit at bar 3 (550 + 500) → 1.05.
    y, x = legs([10, 11, 12, 11, 11], [5, 5.2, 5.5, 5, 5])
    result = backtest(y, x, [2.0] * 5, [1, 1, 0, 0, 0], capital=1_000, cost_bps=10)
    bars = result.bars
    assert bars["shares_y"].tolist() == [0, 50, 50, 0, 0] and bars["shares_x"].tolist() == [0, -100, -100, 0, 0]
    assert bars["gross_pnl"].tolist() == pytest.approx([0, 0, 20, 0, 0])
    assert bars["costs"].tolist() == pytest.approx([0, 1.07, 0, 1.05, 0])
    assert result.trades["pnl"].sum() == pytest.approx(20 - 1.07 - 1.05)
    assert bars["pnl"].sum() == pytest.approx(20 - 1.07 - 1.05)


def test_no_look_ahead():
    rng = np.random.default_rng(3)
    py = 100 + np.cumsum(rng.normal(0, 1, 300))
    px = 50 + np.cumsum(rng.normal(0, 0.5, 300))
    y, x = legs(py, px)
    z = (py - 2 * px - np.mean(py - 2 * px)) / np.std(py - 2 * px)
    rules = SignalRules(entry=1, exit=0.2, stop=5, warmup=0)
    base = backtest(y, x, np.full(300, 2.0), hold_positions(z, rules))
    # Perturb prices from bar 200 on: every holding before bar 201 is unchanged.
    py2, px2 = py.copy(), px.copy()
    py2[200:] += 25
    px2[200:] -= 10
    z2 = np.r_[z[:200], (py2[200:] - 2 * px2[200:] - 3) / 5]
    y2, x2 = legs(py2, px2)
    other = backtest(y2, x2, np.full(300, 2.0), hold_positions(z2, rules))
    pd.testing.assert_frame_equal(
        base.bars.iloc[:201][["shares_y", "shares_x"]], other.bars.iloc[:201][["shares_y", "shares_x"]]
    )


def test_overnight_funding_uses_the_funding_model():
    # Short spread held over one Friday close (3 days), cash model, B = 4 %, spreads 50/25 bp, GC 25 bp,
    # capital 1,000,000. Bar 0 decides; bar 1 (Fri) holds units = 1e6 / (10 + 0.5·20) = 50,000:
    # −50,000 y at 10 (500,000 short), +25,000 x at 20 (500,000 long). Against holding the capital in
    # cash (credit at 3.75 %): the long uses 500,000 of credit (−500,000·0.0375), the short earns the
    # rebate (+500,000·0.0375) and pays the fee on 50,000 · ceil(1.02·10) = 550,000 of collateral.
    index = pd.DatetimeIndex(["2026-03-05", "2026-03-06", "2026-03-09"])
    y = pd.Series([10.0, 10.0, 10.0], index=index)
    x = pd.Series([20.0, 20.0, 20.0], index=index)
    terms = FundingTerms(long_spread_bps=50, short_spread_bps=25, gc_fee_bps=25)
    result = backtest(y, x, [0.5, 0.5, 0.5], [-1, -1, -1], capital=1_000_000, cost_bps=0, funding=terms, rate=0.04)
    # bar 0 decides; bar 1 (Friday) holds: units = 1e6 / (10 + 0.5·20) = 50,000 → −50,000 y, +25,000 x
    expected = (-500_000 * 0.0375 + 500_000 * 0.0375 - 550_000 * 0.0025) * 3 / 360
    assert result.bars["funding"].iloc[1] == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------- metrics
def test_lo_interval_closed_form():
    # Daily returns with mean m, sd s: SR = m/s, SE = √((1 + SR²/2)/n); annualised × √252.
    r = np.random.default_rng(4).normal(0.001, 0.01, 500)
    sr_d = r.mean() / r.std(ddof=1)
    se = np.sqrt((1 + sr_d**2 / 2) / 500)
    sr, lo, hi = lo_sharpe_interval(r)
    assert sr == pytest.approx(sr_d * np.sqrt(252))
    assert hi - lo == pytest.approx(2 * 1.959963984540054 * se * np.sqrt(252))


def test_metrics_flag_a_short_sample():
    y, x = legs([10, 11, 12, 11, 11], [5, 5.2, 5.5, 5, 5])
    m = metrics(backtest(y, x, [2.0] * 5, [1, 1, 0, 0, 0], capital=1_000, cost_bps=10))
    assert m.trades == 1 and m.hit_rate == 1.0 and "too short" in m.note
    assert m.total_return == pytest.approx((20 - 2.12) / 1_000)
    # equity 1,000 → 998.93 (entry cost) → 1,018.93 → 1,017.88 (exit cost): the deeper fall is the first
    assert m.max_drawdown == pytest.approx(max(1.07 / 1_000, 1.05 / 1_018.93))


# ---------------------------------------------------------------- fused kernel and sweep
def random_pair(n=3_000, seed=5):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-03-02 09:30", periods=n, freq="min")
    px = 50 + np.cumsum(rng.normal(0, 0.05, n))
    spread = np.zeros(n)
    for t in range(1, n):
        spread[t] = 0.95 * spread[t - 1] + rng.normal(0, 0.1)
    py = 1.5 * px + 30 + spread
    beta = 1.5 + rng.normal(0, 0.01, n)
    return pd.Series(py, index=index), pd.Series(px, index=index), beta, spread / spread.std()


def test_fused_kernel_equals_the_backtest():
    from astra.statarb._fast import fused_pnl
    from astra.statarb.signals import session_positions

    y, x, beta, z = random_pair()
    rules = SignalRules(entry=1.5, exit=0.3, stop=3.5, warmup=10, max_hold=50)
    reference = backtest(y, x, beta, hold_positions(z, rules, y.index), cost_bps=2.0, dollar_neutral=True)
    bar_in, left = session_positions(y.index)
    fast = fused_pnl(z, y.to_numpy(), x.to_numpy(), beta, bar_in, left, 1.5, 0.3, 3.5, 50, 10, 0, False,
                     1e6, 2e-4, True)  # fmt: skip
    np.testing.assert_allclose(fast, reference.bars["pnl"].to_numpy(), rtol=1e-10, atol=1e-8)


def test_sweep_cells_equal_single_backtests():
    from astra.statarb.sweep import parse_range, sweep

    y, x, beta, z = random_pair()
    entries, exits = parse_range("1.5:2.5:0.5", "--entry"), parse_range("0:1:0.5", "--exit")
    assert entries.tolist() == [1.5, 2.0, 2.5] and exits.tolist() == [0.0, 0.5, 1.0]
    grid = sweep(y, x, beta, z, entries, exits, stop=4, warmup=0, cost_bps=1.0).table
    assert grid.index.name == "cell"
    for _, cell in grid.sample(4, random_state=0).iterrows():
        one = backtest(y, x, beta, hold_positions(z, SignalRules(entry=cell.entry, exit=cell.exit, stop=4, warmup=0)))
        assert cell.total_return == pytest.approx(one.bars["pnl"].sum() / 1e6, rel=1e-9, abs=1e-12)
        assert cell.trades == len(one.trades)
    with pytest.raises(InputError, match="start:stop:step"):
        parse_range("3:1:0.5", "--entry")
