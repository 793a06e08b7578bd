"""The stat-arb workflows: sweep inputs validated up front, the pair run's cointegration test
against statsmodels, the scan workflow, and exports with named index columns."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.stattools import coint

from astra.data import load_prices
from astra.errors import InputError
from astra.statarb import SignalRules, backtest, hold_positions
from astra.workflows.statarb import load_pair, statarb_run, statarb_scan, statarb_sweep


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"entries": "0.5:1:0.5", "exits": "1:2:0.5"}, "no cell of the grid can trade"),
        ({"entries": [1.0, 2.0], "exits": [2.0, 3.0]}, "no cell"),
        ({"cost_bps": -5}, "cost_bps"),
        ({"entries": "1.5:5:0.5", "stop": 4.0}, "--stop 4 must be above the largest entry 5"),
        ({"entries": [0.0, 1.0]}, "--entry values must be in"),
        ({"exits": "0:1:0.5", "warmup": -3}, "warmup"),
    ],
)
def test_sweep_refuses_bad_grids_before_loading(kwargs, match):
    # the tickers do not exist: the error must come from the inputs, before any data is read
    with pytest.raises(InputError, match=match):
        statarb_sweep("NOPE1", "NOPE2", **kwargs)


def test_sweep_takes_plain_rules_and_matches_single_backtests():
    result = statarb_sweep("BAC", "JPM", [1.5, 2.0], [0.0, 0.5], stop=3.5, warmup=20, max_hold=30,
                           start="2019-01-01", end="2021-12-31", cost_bps=2.0)  # fmt: skip
    pair = load_pair("BAC", "JPM", start="2019-01-01", end="2021-12-31")
    from astra.statarb import fit_kalman

    fitted = fit_kalman(pair.y, pair.x, warmup=20, std_errors=False)
    for cell in result.table.itertuples():
        rules = SignalRules(entry=cell.entry, exit=cell.exit, stop=3.5, warmup=20, max_hold=30)
        one = backtest(pair.y, pair.x, fitted.beta, hold_positions(fitted.zscore, rules), cost_bps=2.0)
        assert cell.total_return == pytest.approx(one.bars["pnl"].sum() / 1e6, rel=1e-9, abs=1e-12)
        assert cell.trades == len(one.trades)


@pytest.mark.parametrize(("trend", "autolag", "split"), [("c", None, None), ("ct", "aic", "2020-01-02")])
def test_run_reports_the_pair_cointegration_as_statsmodels(trend, autolag, split):
    report = statarb_run("BAC", "JPM", start="2016-01-01", trend=trend, autolag=autolag,
                         maxlag=None if autolag else 1, split=split)  # fmt: skip
    pair = load_pair("BAC", "JPM", start="2016-01-01")
    y, x = np.log(pair.y), np.log(pair.x)
    if split is not None:
        y, x = y[y.index < split], x[x.index < split]
    stat, pvalue, _ = coint(y, x, trend=trend, autolag=autolag, maxlag=None if autolag else 1)
    eg = report.to_dict()["cointegration"]
    assert eg["stat"] == pytest.approx(stat, rel=1e-8) and eg["p_value"] == pytest.approx(pvalue, abs=1e-8)
    assert eg["bars"] == len(y) and eg["trend"] == trend
    assert set(report.to_dict()["std_errors"]) == {"r", "q_alpha", "q_beta"}


def test_exports_carry_named_index_columns(tmp_path):
    statarb_run("BAC", "JPM", start="2018-01-01", out=tmp_path)
    assert (tmp_path / "trades.csv").read_text().splitlines()[0].startswith("trade,entry,exit")
    assert (tmp_path / "kalman_signals.csv").read_text().splitlines()[0].startswith("timestamp,")
    trades = pd.read_csv(tmp_path / "trades.csv", index_col="trade")
    assert trades.index.tolist() == list(range(1, len(trades) + 1))
    report = statarb_scan(["JPM", "BAC", "XOM", "CVX"], start="2018-01-01", only_discoveries=False, out=tmp_path)
    frame = pd.read_csv(tmp_path / "pair_scan.csv", index_col="rank")
    assert len(frame) == 6 and frame.index.tolist() == list(range(1, 7))
    assert pd.read_parquet(tmp_path / "pair_scan.parquet").index.name == "rank"
    top = report.result.table.iloc[0]
    logs = np.log(load_prices(["JPM", "BAC", "XOM", "CVX"], "sample", start="2018-01-01").prices)
    stat, pvalue, _ = coint(logs[top.y], logs[top.x], maxlag=1, autolag=None)
    assert top.eg_stat == pytest.approx(stat, rel=1e-8) and top.p_value == pytest.approx(pvalue, abs=1e-8)
    assert report.to_dict()["quality"]["pre_listing"] == 0
