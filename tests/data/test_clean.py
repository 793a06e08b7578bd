"""Cleaning: calendar alignment, limited forward-fill, no look-ahead, honest counts."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astra.data import PriceData, PriceMeta, clean_prices, returns
from astra.data.calendar import session_minutes, sessions
from astra.errors import DataUnavailable, InputError


def _daily(values: dict, index) -> PriceData:
    frame = pd.DataFrame(values, index=pd.DatetimeIndex(index, name="date"), dtype="float64")
    return PriceData(frame, PriceMeta(source="test"))


def test_weekend_row_dropped_and_holiday_gap_filled_and_counted():
    # 2024-07-04 is an XNYS holiday; 2024-07-06 is a Saturday; 2024-07-08 is missing for A.
    data = _daily(
        {"A": [1.0, 2.0, 9.0, np.nan, 4.0], "B": [5.0, 6.0, 7.0, 8.0, 9.0]},
        ["2024-07-03", "2024-07-05", "2024-07-06", "2024-07-08", "2024-07-09"],
    )
    out = clean_prices(data, fill_limit=5)
    assert list(out.prices.index) == list(sessions("2024-07-03", "2024-07-09"))
    assert out.prices["A"].tolist() == [1.0, 2.0, 2.0, 4.0]  # Sat value 9.0 never used
    q = out.quality
    assert q.off_calendar_rows == 1
    a = next(t for t in q.tickers if t.ticker == "A")
    assert (a.off_calendar_dropped, a.missing, a.filled, a.unfilled) == (1, 1, 1, 0)


def test_fill_limit_leaves_long_gaps_missing():
    days = sessions("2024-01-02", "2024-01-12")  # 9 sessions
    values = [1.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 2.0, 3.0]
    out = clean_prices(_daily({"A": values}, days), fill_limit=2)
    # pandas-style causal limit: the first 2 values of the 6-session gap are filled, the rest stay missing.
    expected = [1.0, 1.0, 1.0, np.nan, np.nan, np.nan, np.nan, 2.0, 3.0]
    np.testing.assert_array_equal(out.prices["A"].to_numpy(), expected)
    assert out.quality.filled == 2 and out.quality.unfilled == 4


def test_never_backfills_leading_values():
    days = sessions("2024-01-02", "2024-01-08")
    out = clean_prices(_daily({"A": [np.nan, np.nan, 5.0, 6.0, 7.0], "B": [1.0] * 5}, days))
    assert np.isnan(out.prices["A"].iloc[:2]).all()
    a = next(t for t in out.quality.tickers if t.ticker == "A")
    assert a.leading_missing == 2 and a.filled == 0


def test_leading_rows_where_nothing_trades_are_dropped():
    days = sessions("2024-01-02", "2024-01-08")
    out = clean_prices(_daily({"A": [np.nan, 1.0, 2.0, 3.0, 4.0]}, days))
    assert out.prices.index[0] == days[1]


def test_all_missing_ticker_is_data_unavailable():
    days = sessions("2024-01-02", "2024-01-05")
    with pytest.raises(DataUnavailable, match="no prices on trading days for B"):
        clean_prices(_daily({"A": [1.0, 2, 3, 4], "B": [np.nan] * 4}, days))


def test_bad_fill_limit():
    with pytest.raises(InputError, match="fill_limit"):
        clean_prices(_daily({"A": [1.0]}, ["2024-01-02"]), fill_limit=-1)


def test_intraday_fill_never_crosses_the_overnight_gap():
    grid = session_minutes("2024-07-01", "2024-07-02")
    close_day1 = grid[grid.normalize() == grid[0].normalize()][-1]
    open_day2 = grid[grid.normalize() != grid[0].normalize()][0]
    frame = pd.DataFrame({"A": np.arange(len(grid), dtype=float) + 1.0}, index=grid)
    frame.loc[open_day2, "A"] = np.nan  # the first bar of day 2 is missing
    data = PriceData(frame, PriceMeta(source="test", interval="1m", timezone="America/New_York"))
    out = clean_prices(data, fill_limit=5)
    assert np.isnan(out.prices.loc[open_day2, "A"])  # not filled with yesterday's close
    assert out.prices.loc[close_day1, "A"] == frame.loc[close_day1, "A"]
    assert out.quality.unfilled == 1


def test_intraday_out_of_session_minutes_dropped():
    grid = session_minutes("2024-07-01", "2024-07-01")
    pre = pd.DatetimeIndex([pd.Timestamp("2024-07-01 09:00", tz="America/New_York")])
    frame = pd.DataFrame({"A": 1.0}, index=pre.append(grid))
    data = PriceData(frame, PriceMeta(source="test", interval="1m", timezone="America/New_York"))
    out = clean_prices(data)
    assert out.quality.off_calendar_rows == 1 and len(out.prices) == 390


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(1.0, 500.0)), min_size=12, max_size=40),
    st.integers(0, 4),
    st.data(),
)
def test_no_look_ahead_cleaning_a_prefix_gives_a_prefix(raw, limit, draw):
    # A later value must never leak backwards: cleaning the first k rows must give
    # exactly the first rows of cleaning everything, for every k.
    if all(v is None for v in raw[:1]) or all(v is None for v in raw):
        raw = [100.0, *raw[1:]]
    days = sessions("2023-01-03", "2023-03-31")[: len(raw)]
    values = [np.nan if v is None else v for v in raw]
    full = clean_prices(_daily({"A": values}, days), fill_limit=limit).prices
    k = draw.draw(st.integers(1, len(raw)))
    if np.isnan(values[:k]).all():
        return
    part = clean_prices(_daily({"A": values[:k]}, days[:k]), fill_limit=limit).prices
    pd.testing.assert_frame_equal(part, full.loc[: days[k - 1]], check_freq=False)


def test_perturbing_a_future_price_leaves_past_returns_unchanged():
    days = sessions("2023-01-03", "2023-02-28")
    rng = np.random.default_rng(0)
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    values[10:13] = np.nan
    base = returns(clean_prices(_daily({"A": values.copy()}, days)).prices)
    bumped = values.copy()
    bumped[20] *= 1.5
    after = returns(clean_prices(_daily({"A": bumped}, days)).prices)
    pd.testing.assert_frame_equal(base.iloc[:19], after.iloc[:19])
    assert not np.isclose(base.iloc[19, 0], after.iloc[19, 0])


def test_returns_simple_and_log_against_hand_values():
    prices = pd.DataFrame({"A": [100.0, 110.0, 99.0, np.nan, 99.0]})
    simple = returns(prices)["A"].to_numpy()
    np.testing.assert_allclose(simple[:2], [0.10, -0.10])
    assert np.isnan(simple[2:]).all()  # a missing price gives missing returns, never a fill
    log = returns(prices, "log")["A"].to_numpy()
    np.testing.assert_allclose(log[:2], [np.log(1.1), np.log(0.9)])
    with pytest.raises(InputError):
        returns(prices, "arith")
