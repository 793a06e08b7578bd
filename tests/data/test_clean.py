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


# ---------------------------------------------------------------- ragged panels: pre-listing gaps and alignment
@pytest.fixture(scope="module")
def late_listings():
    """The sample's 20 stocks from 1995 with two of them listed late (the issue's 20-name file)."""
    from astra.data import load_prices
    from astra.data.providers.sample import sample_tickers

    names = [t for t in sample_tickers() if t != "SP500"]
    raw = load_prices(names, "sample", start="1995-01-01", clean=False)
    prices = raw.prices.copy()
    prices.loc[prices.index < "2019-05-10", names[4]] = np.nan
    prices.loc[prices.index < "2008-03-03", names[9]] = np.nan
    return raw.with_prices(prices), names[4], names[9]


def test_quality_report_counts_pre_listing_gaps(late_listings):
    data, latest, other = late_listings
    out = clean_prices(data)
    q = out.quality
    # hand count: rows before each ticker's first price in the cleaned frame, and complete rows
    expected = {t: int(out.prices[t].notna().to_numpy().argmax()) for t in out.prices.columns}
    assert {t.ticker: t.leading_missing for t in q.tickers} == expected
    assert q.pre_listing == expected[latest] + expected[other] > 0
    assert q.complete_rows == len(out.prices.dropna())
    assert [t.ticker for t in q.late_listings] == [latest, other]
    line = q.summary()
    assert f"{q.pre_listing} before a listing ({latest} from 2019-05-10, {other} from 2008-03-03)" in line
    assert f"{q.complete_rows} sessions have every ticker" in line
    assert q.to_dict()["pre_listing"] == q.pre_listing


def test_common_alignment_says_what_it_drops_and_who_limits_it(late_listings):
    from astra.data import align_returns

    data, latest, _ = late_listings
    daily = returns(clean_prices(data).prices)
    aligned = align_returns(daily)
    reference = daily.dropna()  # pandas: the rows where every name has a return
    pd.testing.assert_frame_equal(aligned.returns, reference)
    with_any = daily.notna().any(axis=1).sum()
    assert aligned.dropped == with_any - len(reference) and aligned.rows_in == with_any
    assert aligned.start_limited_by == (latest,) and aligned.end_limited_by == ()
    assert f"{len(reference)} of {with_any} days" in aligned.note and latest in aligned.note
    pd.testing.assert_frame_equal(aligned.covariance(), reference.cov())


def test_pairwise_covariance_is_psd_and_equals_the_sample_covariance_without_gaps(late_listings):
    from astra.data import align_returns, pairwise_covariance

    data, _, _ = late_listings
    daily = returns(clean_prices(data).prices)
    complete = daily.dropna()
    # no gaps: the pairwise estimate is the ordinary sample covariance (pandas)
    np.testing.assert_allclose(pairwise_covariance(complete).to_numpy(), complete.cov().to_numpy(), rtol=1e-12,
                               atol=1e-18)  # fmt: skip
    aligned = align_returns(daily, "pairwise")
    assert len(aligned.returns) == aligned.rows_in and aligned.dropped == 0
    cov = aligned.covariance().to_numpy()
    assert np.linalg.eigvalsh(cov)[0] >= -1e-15
    # reference: pandas' pairwise-complete covariance (variances from each name's whole history),
    # its correlation projected by statsmodels' corr_nearest, rescaled by those variances
    reference = daily.cov().to_numpy()
    sd = np.sqrt(np.diag(reference))
    np.testing.assert_allclose(np.diag(cov), sd**2, rtol=1e-12)
    nearest = nearest_by_statsmodels(reference / np.outer(sd, sd))
    np.testing.assert_allclose(cov / np.outer(sd, sd), nearest, atol=1e-6)


def nearest_by_statsmodels(corr):
    import warnings

    from statsmodels.stats.correlation_tools import corr_nearest
    from statsmodels.tools.sm_exceptions import IterationLimitWarning

    with warnings.catch_warnings():  # its clipping iteration stops on a count, near the fixed point
        warnings.simplefilter("ignore", IterationLimitWarning)
        return corr_nearest(corr, threshold=1e-15, n_fact=200)


def test_pairwise_covariance_projects_an_indefinite_hand_example():
    # Three names whose pairwise correlations (+0.9, +0.9, −0.9 on their common days) cannot
    # all hold at once: the pairwise matrix is indefinite (eigenvalue 1 − 0.9·… < 0).
    from astra.data import pairwise_covariance

    rng = np.random.default_rng(0)
    n = 300
    f = rng.normal(size=(3, n))
    a = np.r_[f[0], f[1], np.full(n, np.nan)]
    b = np.r_[0.9 * f[0] + 0.436 * f[2], np.full(n, np.nan), f[1] * -0.9 + 0.436 * rng.normal(size=n)]
    c = np.r_[np.full(n, np.nan), 0.9 * f[1] + 0.436 * f[2][:n], f[1]]
    frame = pd.DataFrame({"A": a, "B": b, "C": 2.0 * c})
    raw = frame.cov()
    corr = raw / np.sqrt(np.outer(np.diag(raw), np.diag(raw)))
    assert np.linalg.eigvalsh(corr.to_numpy())[0] < -0.1  # indefinite as estimated pairwise
    cov = pairwise_covariance(frame, min_overlap=100).to_numpy()
    sd = np.sqrt(np.diag(raw.to_numpy()))
    np.testing.assert_allclose(np.diag(cov), sd**2, rtol=1e-12)  # variances kept
    ours = cov / np.outer(sd, sd)
    assert np.linalg.eigvalsh(ours)[0] >= -1e-12
    # statsmodels' nearest correlation (iterative eigenvalue clipping, converges to Higham's answer)
    np.testing.assert_allclose(ours, nearest_by_statsmodels(corr.to_numpy()), atol=1e-5)


def test_nearest_correlation_published_example():
    # Higham (2002), "Computing the nearest correlation matrix", IMA J. Numer. Anal. 22: for
    # A = [1 1 0; 1 1 1; 0 1 1] the nearest correlation matrix has off-diagonals 0.7607, 0.1573.
    from astra.data import nearest_correlation

    x = nearest_correlation([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
    np.testing.assert_allclose(x, [[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]], atol=5e-5)
    assert np.linalg.eigvalsh(x)[0] >= -1e-14
    valid = np.array([[1.0, 0.3], [0.3, 1.0]])
    np.testing.assert_array_equal(nearest_correlation(valid), valid)  # already a correlation matrix


def test_alignment_bad_input():
    from astra.data import align_returns, pairwise_covariance

    days = pd.date_range("2024-01-01", periods=80, freq="B")
    frame = pd.DataFrame({"A": np.sin(np.arange(80)), "B": np.r_[np.full(70, np.nan), np.cos(np.arange(10))]},
                         index=days)  # fmt: skip
    with pytest.raises(InputError, match="align"):
        align_returns(frame, "outer")
    with pytest.raises(InputError, match="A and B have 10 common days"):
        align_returns(frame, "pairwise", min_overlap=20)
    with pytest.raises(InputError, match="min_overlap = 60"):
        pairwise_covariance(frame)
    assert align_returns(frame).start_limited_by == ("B",)
