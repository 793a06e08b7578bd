"""Engle–Granger options and per-pair alignment against statsmodels' ``coint`` and ``adfuller``.

Reference: ``statsmodels.tsa.stattools.coint`` (trend n/c/ct/ctt, maxlag, autolag aic/bic/t-stat)
run in the test on each pair's own common bars, and ``adfuller`` for the lag it chose.
"""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.sm_exceptions import CollinearityWarning
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.tsatools import add_trend

from astra.data import load_prices
from astra.errors import InputError
from astra.statarb.scan import engle_granger, scan


def simulated_pairs():
    """Three pairs: tightly cointegrated, loosely (a slow AR spread plus a drift), and not at all."""
    rng = np.random.default_rng(42)
    n = 400
    x = np.cumsum(rng.normal(0, 1, n))
    spread = np.zeros(n)
    for t in range(1, n):
        spread[t] = 0.97 * spread[t - 1] + rng.normal(0, 1)
    ar = np.zeros(n)
    for t in range(2, n):  # AR(2) residual: the lag search has something to find
        ar[t] = 0.5 * ar[t - 1] + 0.3 * ar[t - 2] + rng.normal(0, 1)
    return [
        (1.5 * x + ar, x),
        (0.8 * x + spread + 0.01 * np.arange(n), x),
        (np.cumsum(rng.normal(0, 1, n)), x),
    ]


def reference_lag(y, x, trend, maxlag, autolag):
    """The ADF lag statsmodels' coint uses: adfuller on the cointegrating regression's residual."""
    design = x[:, None] if trend == "n" else add_trend(x[:, None], trend=trend, prepend=False)
    resid = OLS(y, design).fit().resid
    return adfuller(resid, maxlag=maxlag, autolag=autolag, regression="n", result_object=True).lags


@pytest.mark.parametrize("trend", ["n", "c", "ct", "ctt"])
@pytest.mark.parametrize(("autolag", "maxlag"), [(None, 0), (None, 2), (None, None), ("aic", None), ("bic", 6),
                                                 ("t-stat", None), ("aic", 3)])  # fmt: skip
def test_engle_granger_matches_coint_for_every_trend_and_lag_rule(trend, autolag, maxlag):
    pairs = simulated_pairs()
    ours = engle_granger(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), trend=trend,
                         maxlag=maxlag, autolag=autolag)  # fmt: skip
    for i, (y, x) in enumerate(pairs):
        stat, pvalue, _ = coint(y, x, trend=trend, maxlag=maxlag, autolag=autolag)
        assert ours["stat"][i] == pytest.approx(stat, rel=1e-8, abs=1e-8)
        assert ours["pvalue"][i] == pytest.approx(pvalue, abs=1e-8)
        assert ours["lags"][i] == reference_lag(y, x, trend, maxlag, autolag)
        assert ours["bars"][i] == len(y)


def test_scan_options_on_sample_pairs_match_coint_in_logs_and_levels():
    prices = load_prices(["JPM", "BAC", "XOM"], "sample", start="2021-01-01").prices
    for levels, trend, autolag in ((False, "ct", "aic"), (True, "n", "t-stat"), (True, "ctt", None)):
        if True:
            table = scan(prices, trend=trend, autolag=autolag, maxlag=None if autolag else 2, levels=levels,
                         fdr=0.5).table  # fmt: skip
            data = prices if levels else np.log(prices)
            for row in table.itertuples():
                stat, pvalue, _ = coint(data[row.y], data[row.x], trend=trend, autolag=autolag,
                                        maxlag=None if autolag else 2)  # fmt: skip
                assert row.eg_stat == pytest.approx(stat, rel=1e-8)
                assert row.p_value == pytest.approx(pvalue, abs=1e-8)


@pytest.fixture(scope="module")
def ragged():
    """The sample's 20 stocks from 2016, two of them listed late and one with a gap."""
    from astra.data.providers.sample import sample_tickers

    names = [t for t in sample_tickers() if t != "SP500"]
    prices = load_prices(names, "sample", start="2016-01-01").prices.copy()
    late = {names[3]: "2019-06-03", names[11]: "2021-02-01"}
    for name, first in late.items():
        prices.loc[prices.index < first, name] = np.nan
    prices.loc["2018-03-01":"2018-03-20", names[7]] = np.nan  # a gap longer than any fill
    return prices, late, names[7]


def test_late_listings_do_not_cut_other_pairs(ragged):
    prices, late, gapped = ragged
    assert len(prices.dropna()) < 0.6 * len(prices)  # the universe-wide intersection would lose 40 %+
    result = scan(prices, fdr=0.5, maxlag=1)
    table = result.table.set_index(["y", "x"])
    assert result.tested == 190 and result.skipped == 0
    logs = np.log(prices)
    untouched = [(a, b) for (a, b) in table.index if not {a, b} & {*late, gapped}][:5]
    for a, b in untouched:
        row = table.loc[(a, b)]
        assert row.bars == len(prices)  # the full history, not the intersection's
        stat, pvalue, _ = coint(logs[a], logs[b], maxlag=1, autolag=None)
        assert row.eg_stat == pytest.approx(stat, rel=1e-8)
        assert row.p_value == pytest.approx(pvalue, abs=1e-8)
    # pairs with a late or gapped leg: statsmodels on their own common bars (dropna of the pair)
    touched = [k for k in table.index if set(k) & {*late, gapped}][:4]
    touched.append(next(k for k in table.index if set(k) == {*late}))
    for a, b in touched:
        pair = logs[[a, b]].dropna()
        row = table.loc[(a, b)]
        assert row.bars == len(pair) and row.start == pair.index[0].date().isoformat()
        stat, pvalue, _ = coint(pair[a], pair[b], maxlag=1, autolag=None)
        assert row.eg_stat == pytest.approx(stat, rel=1e-8)
        assert row.p_value == pytest.approx(pvalue, abs=1e-8)
    assert any("fewer than the panel" in note for note in result.notes)


def test_min_overlap_skips_short_pairs_and_says_so(ragged):
    prices, late, _ = ragged
    window = prices.loc["2020-06-01":]
    latest = max(late, key=late.get)  # listed 2021-02-01: ~480 common bars with anyone
    bars = int(window[latest].notna().sum())
    result = scan(window, min_overlap=bars + 1, fdr=0.5)
    assert result.skipped == 19 and result.tested == 190 - 19
    assert latest not in set(result.table["y"]) | set(result.table["x"])
    assert any("min_overlap" in note and latest in note for note in result.notes)
    json.dumps(result.to_dict())  # dates as ISO strings, no NaN/inf objects
    with pytest.raises(InputError, match="min_overlap"):
        scan(window.iloc[:50], min_overlap=100)


def test_collinear_pair_is_minus_infinity_as_statsmodels():
    rng = np.random.default_rng(3)
    x = np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    frame = pd.DataFrame({"A": x**2, "B": x, "C": np.exp(np.cumsum(rng.normal(0, 0.01, 300)))})
    result = scan(frame, fdr=0.5)
    row = result.table.iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearityWarning)
        stat, pvalue, _ = coint(np.log(frame["A"]), np.log(frame["B"]))
    assert (row.y, row.x) == ("A", "B") and row.eg_stat == stat == -math.inf and row.p_value == pvalue == 0.0
    assert any("collinear" in note for note in result.notes)
    assert result.to_dict()["table"][0]["eg_stat"] is None


def test_table_is_ranked_with_a_named_index():
    prices = load_prices(["JPM", "BAC", "XOM"], "sample", start="2021-01-01").prices
    table = scan(prices, fdr=0.5).table
    assert table.index.name == "rank" and table.index.tolist() == [1, 2, 3]
    assert table.to_csv().splitlines()[0].startswith("rank,y,x,eg_stat")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"trend": "t"}, "trend"), ({"autolag": "hqic"}, "autolag"), ({"maxlag": -1}, "maxlag"),
     ({"min_overlap": 5}, "min_overlap"), ({"block": 0}, "block")],
)  # fmt: skip
def test_bad_options(kwargs, match):
    prices = load_prices(["JPM", "BAC", "XOM"], "sample", start="2021-01-01").prices
    with pytest.raises(InputError, match=match):
        scan(prices, **kwargs)


def test_levels_accepts_what_logs_refuse():
    frame = pd.DataFrame({"A": np.linspace(-1, 1, 200) + np.sin(np.arange(200)), "B": np.linspace(-1, 1, 200)})
    with pytest.raises(InputError, match="levels"):
        scan(frame)
    assert scan(frame, levels=True, fdr=0.5).tested == 1


def test_blocks_of_pairs_on_a_runner_give_the_single_scan(ragged):
    # the block API a cluster uses (astra.parallel.runner maps scan_block over pair blocks):
    # q-values over all the pairs tested, whatever the blocks
    from astra.parallel import pair_blocks, runner
    from astra.statarb.scan import finish_scan, plan_scan, scan_block

    prices, _, _ = ragged
    reference = scan(prices, autolag="bic", maxlag=4, fdr=0.3)
    plan = plan_scan(prices, autolag="bic", maxlag=4, fdr=0.3)
    parts = pair_blocks(len(plan.names), 23)
    with runner(None) as run:
        blocks = run.map(scan_block, parts, plan=plan)
    result = finish_scan(plan, np.concatenate(parts), blocks)
    pd.testing.assert_frame_equal(result.table, reference.table)
    assert result.notes == reference.notes and result.tested == reference.tested
