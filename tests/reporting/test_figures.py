"""Figure axes: intraday charts on trading time, rates on a sane range."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from astra.data import RateSeries
from astra.data.calendar import session_minutes, sessions
from astra.reporting import figures

MINUTE_NS = 60 * 10**9


def _breaks(axis) -> list[tuple[int, int]]:
    """(start, end) in ns of every rangebreak of a plotly x-axis."""
    spans = []
    for item in axis.rangebreaks:
        length = round(item.dvalue * 1e6)
        spans += [(pd.Timestamp(v).value, pd.Timestamp(v).value + length) for v in item.values]
    return sorted(spans)


@pytest.fixture(scope="module")
def week_of_minutes():
    # XNYS 1-minute bars over Thanksgiving week 2024: a weekend, the 28 Nov holiday and the
    # 29 Nov early close (13:00), as the exchange calendar lists them (an independent source).
    return session_minutes("2024-11-22", "2024-12-03")


def test_intraday_axis_has_no_gaps(week_of_minutes):
    minutes = week_of_minutes
    assert len(sessions("2024-11-22", "2024-12-03")) == 7  # Fri, Mon-Wed, Fri (half day), Mon, Tue
    fig = figures.trading_time_axis(figures.go.Figure(), minutes)
    spans = _breaks(fig.layout.xaxis)
    wall = minutes.tz_localize(None).as_unit("ns").asi8
    # one break between consecutive sessions, none inside a session
    assert len(spans) == 7 - 1
    # no bar is hidden: every bar lies outside every break
    for start, end in spans:
        assert not ((wall >= start) & (wall < end)).any()
    # what is left of the axis is trading time: n one-minute bars span n - 1 minutes
    visible = (wall[-1] - wall[0]) - sum(end - start for start, end in spans)
    assert visible == (len(minutes) - 1) * MINUTE_NS
    # the overnight, weekend, holiday and half-day gaps are the breaks (ET wall clock)
    stamp = pd.Timestamp
    assert (stamp("2024-11-22 16:00").value, stamp("2024-11-25 09:30").value) in spans  # weekend
    assert (stamp("2024-11-27 16:00").value, stamp("2024-11-29 09:30").value) in spans  # Thanksgiving
    assert (stamp("2024-11-29 13:00").value, stamp("2024-12-02 09:30").value) in spans  # early close


def test_pair_panels_use_trading_time_on_every_axis(week_of_minutes):
    index = week_of_minutes
    n = len(index)
    rng = np.random.default_rng(0)
    signals = pd.DataFrame({"beta": 1 + rng.normal(0, 0.01, n), "z": rng.normal(0, 1, n),
                            "signal": np.zeros(n), "pnl": rng.normal(0, 10, n)}, index=index)  # fmt: skip
    report = SimpleNamespace(signals=signals, rules=SimpleNamespace(entry=2.0, exit=0.5), pair=("C", "JPM"),
                             kalman=SimpleNamespace(model="kalman3"))  # fmt: skip
    fig = figures.pair_panels(report)
    for name in ("xaxis", "xaxis2", "xaxis3"):
        assert len(_breaks(fig.layout[name])) == 6
    first = pd.Timestamp(fig.data[0].x[0])
    assert first.tzinfo is None and first == pd.Timestamp("2024-11-22 09:30")  # New York wall clock


def test_daily_series_keep_a_plain_date_axis():
    days = pd.bdate_range("2024-01-01", periods=30)
    fig = figures.trading_time_axis(figures.go.Figure(), days)
    assert not fig.layout.xaxis.rangebreaks


def test_flat_rate_is_drawn_on_a_few_basis_points():
    days = pd.bdate_range("2024-01-01", periods=60)
    flat = RateSeries(pd.Series(0.043, index=days), "flat")
    lo, hi = figures.rate_series(flat).layout.yaxis.range
    # ±10 bp around 4.3 %, not plotly's automatic ±50 % of a constant
    assert lo == pytest.approx(0.042) and hi == pytest.approx(0.044)
    moving = RateSeries(pd.Series(np.linspace(0.01, 0.05, 60), index=days), "irx")
    lo, hi = figures.rate_series(moving).layout.yaxis.range
    assert lo == pytest.approx(0.01 - 0.004) and hi == pytest.approx(0.05 + 0.004)  # 10 % of the 4 % range
