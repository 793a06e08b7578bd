"""Inputs as users have them, and bad or degenerate ones: labelled exposures, thin tails, hedged books, overflow.

References: the same call with arrays in the matching order, the worst day read off the data, and
exact zeros (a perfectly hedged pair has P&L 0 in every scenario).
"""

import numpy as np
import pandas as pd
import pytest

from astra.errors import InputError
from astra.risk import rolling_var_forecasts, stress_test, var


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(8)
    dates = pd.bdate_range("2020-01-01", periods=400)
    values = rng.normal(0, 0.01, (400, 3)) @ np.array([[1.0, 0.3, 0.1], [0.0, 1.0, 0.2], [0.0, 0.0, 1.0]])
    return pd.DataFrame(values, index=dates, columns=["AAPL", "MSFT", "XOM"])


def test_series_exposures_align_by_ticker(frame):
    exposures = pd.Series({"XOM": -2e5, "AAPL": 1e6})  # a subset, in another order
    # reference: arrays in the matching order
    expected = var([-2e5, 1e6], frame[["XOM", "AAPL"]].to_numpy(), method="hist", tickers=["XOM", "AAPL"])
    got = var(exposures, frame, method="hist")
    assert (got.var, got.es) == (expected.var, expected.es)
    assert [c["ticker"] for c in got.components] == ["XOM", "AAPL"]
    assert var(dict(exposures), frame, method="param").var == pytest.approx(
        var([-2e5, 1e6], frame[["XOM", "AAPL"]], method="param").var, rel=1e-12
    )
    mc = var(exposures, frame, method="mc", scenarios=5_000, seed=1, horizon=5)
    assert mc.var == var([-2e5, 1e6], frame[["XOM", "AAPL"]], method="mc", scenarios=5_000, seed=1, horizon=5).var
    rolled = rolling_var_forecasts(exposures, frame, window=250)
    assert rolled["pnl"].iloc[-1] == pytest.approx(frame.iloc[-1]["XOM"] * -2e5 + frame.iloc[-1]["AAPL"] * 1e6)
    assert stress_test(exposures, frame).loc["worst_1d", "pnl"] == pytest.approx(
        (frame[["XOM", "AAPL"]].to_numpy() @ [-2e5, 1e6]).min()
    )


def test_a_ticker_without_returns_is_named(frame):
    with pytest.raises(InputError, match="ZZZ, QQQ"):
        var(pd.Series({"AAPL": 1.0, "ZZZ": 2.0, "QQQ": 3.0}), frame)
    with pytest.raises(InputError, match="more than once"):
        var(pd.Series([1.0, 2.0], index=["AAPL", "AAPL"]), frame)
    with pytest.raises(InputError, match="shape mismatch"):
        var(pd.Series([1.0, 2.0], index=["AAPL", "MSFT"]), frame.to_numpy())  # arrays carry no tickers


def test_var_on_too_few_days_warns_that_it_is_the_worst_day(frame):
    short = frame.iloc[:57]
    res = var([1e6, 0.0, 0.0], short, method="hist", level=0.99)
    worst = -(short["AAPL"].to_numpy() * 1e6).min()  # reference: the worst day, read off the data
    assert res.var == pytest.approx(worst) and res.es == pytest.approx(worst)
    assert any("is the worst one" in n and "57 observations" in n for n in res.notes)
    assert any("2.50 of 250" in n for n in var([1e6, 0, 0], frame.iloc[:250], method="hist").notes)
    assert not var([1e6, 0, 0], frame, method="hist", level=0.95).notes  # 20 observations beyond VaR


@pytest.mark.parametrize("method", ["hist", "param", "mc"])
def test_hedged_pair_has_no_shares_of_var(frame, method):
    twin = frame[["AAPL"]].assign(AAPL_B=frame["AAPL"])
    res = var([1e6, -1e6], twin, method=method, scenarios=5_000, seed=1)
    assert res.var == pytest.approx(0.0, abs=1e-6)
    assert all(c["pct"] is None for c in res.components)
    assert any("shares of VaR are undefined" in n for n in res.notes)
    assert "1e+17" not in str(res.to_dict())


@pytest.mark.parametrize("exposure", [1e300 * 1e300, 1e302, -1e16, float("nan")])
def test_absurd_exposures_are_refused(frame, exposure):
    with pytest.raises(InputError, match="exposure"):
        var([exposure, 1.0, 1.0], frame, method="mc", scenarios=2_000)
