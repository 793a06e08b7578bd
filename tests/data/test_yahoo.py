"""Yahoo provider with fake downloaders: no network in these tests.

The fakes return frames shaped exactly as yfinance 1.7's ``download`` builds them
(yfinance/multi.py, ``_download_impl``): per-ticker OHLCV frames concatenated with
``keys=tickers, names=['Ticker', 'Price']``, then ``swaplevel`` to ``(Price, Ticker)``
and sorted; a failed ticker contributes an empty frame reindexed to NaN, and its
error goes to the ``yfinance`` logger instead of being raised.
"""

import logging

import numpy as np
import pandas as pd
import pytest

from astra.data.providers.yahoo import fetch_irx, fetch_yahoo
from astra.errors import DataUnavailable, InputError

NOW = pd.Timestamp("2026-11-25 12:00", tz="America/New_York")


def yf_shape(per_ticker: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Assemble frames the way yfinance.download does (group_by='column')."""
    dfs = {}
    idx = None
    for df in per_ticker.values():
        if df is not None and not df.empty:
            idx = df.index if idx is None else idx.union(df.index)
    for t, df in per_ticker.items():
        if df is None or df.empty:
            df = pd.DataFrame(columns=["Open", "High", "Low", "Close", "Volume"], dtype="float64")
        dfs[t] = df.reindex(idx if idx is not None else pd.DatetimeIndex([]))
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


def ohlcv(index, close) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {"Open": close, "High": close + 1, "Low": close - 1, "Close": close, "Volume": 1e6}, index=index
    )


def daily_index(start, end):
    return pd.DatetimeIndex(pd.bdate_range(start, end), name="Date")


class FakeDownloader:
    """Records calls; replies from a script (frames, or exceptions to raise, or log lines)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.calls = []

    def __call__(self, tickers, **kwargs):
        self.calls.append((list(tickers), kwargs))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if callable(reply):
            reply = reply(list(tickers), kwargs)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, tuple):  # (frame, log message)
            frame, message = reply
            logging.getLogger("yfinance").error(message)
            return frame
        return reply


class FakeClock:
    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.sleeps.append(s)
        self.t += s


def test_daily_close_taken_from_price_ticker_columns_and_end_inclusive():
    idx = daily_index("2026-03-02", "2026-03-06")
    raw = yf_shape({"AAPL": ohlcv(idx, [1, 2, 3, 4, 5]), "MSFT": ohlcv(idx, [10, 20, 30, 40, 50])})
    fake = FakeDownloader([raw])
    data = fetch_yahoo(["aapl", "MSFT"], "2026-03-02", "2026-03-06", downloader=fake, now=NOW)
    np.testing.assert_array_equal(data.prices["AAPL"], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(data.prices["MSFT"], [10, 20, 30, 40, 50])
    _, kwargs = fake.calls[0]
    assert kwargs["end"] == "2026-03-07"  # yfinance's end is exclusive
    assert kwargs["auto_adjust"] is True
    assert data.meta.source == "yahoo"
    assert data.prices.index.name == "date"


def test_all_nan_ticker_is_named_alone():
    idx = daily_index("2026-03-02", "2026-03-04")
    raw = yf_shape({"AAPL": ohlcv(idx, [1, 2, 3]), "ZZZZ": None})
    fake = FakeDownloader([(raw, "['ZZZZ']: possibly delisted; no price data found")])
    with pytest.raises(DataUnavailable, match=r"no prices for ZZZZ \(") as info:
        fetch_yahoo(["AAPL", "ZZZZ"], "2026-03-02", "2026-03-04", downloader=fake, now=NOW)
    assert "AAPL" not in str(info.value).split("ZZZZ")[0]
    assert "possibly delisted" in str(info.value)


def test_fully_empty_download_names_every_ticker():
    fake = FakeDownloader([yf_shape({"AAA": None, "BBB": None})])
    with pytest.raises(DataUnavailable, match="AAA, BBB"):
        fetch_yahoo(["AAA", "BBB"], "2026-03-02", "2026-03-04", downloader=fake, now=NOW)


def test_rate_limit_is_retried_with_growing_backoff():
    from yfinance.exceptions import YFRateLimitError

    idx = daily_index("2026-03-02", "2026-03-04")
    ok = yf_shape({"AAPL": ohlcv(idx, [1, 2, 3])})
    fake = FakeDownloader([YFRateLimitError(), YFRateLimitError(), ok])
    clock = FakeClock()
    data = fetch_yahoo(["AAPL"], "2026-03-02", "2026-03-04", downloader=fake, sleep=clock.sleep, clock=clock, now=NOW)
    assert clock.sleeps == [1.0, 2.0]
    assert len(data.prices) == 3


def test_rate_limit_seen_only_in_the_log_is_retried_for_failed_tickers():
    idx = daily_index("2026-03-02", "2026-03-04")
    first = (
        yf_shape({"AAPL": ohlcv(idx, [1, 2, 3]), "MSFT": None}),
        "['MSFT']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
    )
    second = yf_shape({"MSFT": ohlcv(idx, [7, 8, 9])})
    fake = FakeDownloader([first, second])
    clock = FakeClock()
    data = fetch_yahoo(
        ["AAPL", "MSFT"], "2026-03-02", "2026-03-04", downloader=fake, sleep=clock.sleep, clock=clock, now=NOW
    )
    assert fake.calls[1][0] == ["MSFT"]  # only the failed ticker is asked again
    np.testing.assert_array_equal(data.prices["MSFT"], [7, 8, 9])


def test_rate_limit_exhausted_within_bounded_time():
    from yfinance.exceptions import YFRateLimitError

    fake = FakeDownloader([YFRateLimitError()])
    clock = FakeClock()
    with pytest.raises(DataUnavailable, match="rate-limited"):
        fetch_yahoo(
            ["AAPL"],
            "2026-03-02",
            "2026-03-04",
            downloader=fake,
            sleep=clock.sleep,
            clock=clock,
            now=NOW,
            max_attempts=10,
            max_total_s=10.0,
        )
    assert sum(clock.sleeps) <= 10.0
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_network_error_becomes_data_unavailable():
    fake = FakeDownloader([ConnectionError("Failed to resolve query1.finance.yahoo.com")])
    with pytest.raises(DataUnavailable, match="download failed"):
        fetch_yahoo(["AAPL"], "2026-03-02", "2026-03-04", downloader=fake, now=NOW)


def test_unreachable_network_is_not_reported_as_a_delisted_ticker():
    # What yfinance 0.2 logs when DNS fails: it catches the error and returns an empty frame.
    message = (
        "['AAPL', 'MSFT']: DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
        "See https://curl.se/libcurl/c/libcurl-errors.html first for more details.')"
    )
    fake = FakeDownloader([(yf_shape({"AAPL": None, "MSFT": None}), message)])
    with pytest.raises(DataUnavailable) as info:
        fetch_yahoo(["AAPL", "MSFT"], "2026-03-02", "2026-03-04", downloader=fake, now=NOW)
    text = str(info.value)
    assert text.startswith("cannot reach Yahoo Finance (could not resolve query2.finance.yahoo.com)")
    assert "delisted" not in text and "curl" not in text and len(fake.calls) == 1  # not retried


def minute_reply(tickers, kwargs):
    lo, hi = pd.Timestamp(kwargs["start"]), pd.Timestamp(kwargs["end"])
    days = pd.bdate_range(lo, hi - pd.Timedelta(days=1))
    stamps = []
    for d in days:  # 09:29 (pre-market, must be dropped) through 15:59, in UTC like Yahoo
        local = pd.date_range(d + pd.Timedelta("9h29min"), d + pd.Timedelta("15h59min"), freq="min")
        stamps.append(local.tz_localize("America/New_York").tz_convert("UTC"))
    index = stamps[0].append(stamps[1:]) if stamps else pd.DatetimeIndex([], tz="UTC")
    index.name = "Datetime"
    return yf_shape({t: ohlcv(index, np.linspace(10, 11, len(index))) for t in tickers})


def test_one_minute_split_into_week_windows_and_new_york_session():
    fake = FakeDownloader([minute_reply])
    data = fetch_yahoo(["C", "JPM"], "2026-11-02", "2026-11-20", "1m", downloader=fake, now=NOW)
    windows = [(k["start"], k["end"]) for _, k in fake.calls]
    assert windows == [("2026-11-02", "2026-11-09"), ("2026-11-09", "2026-11-16"), ("2026-11-16", "2026-11-21")]
    assert all(pd.Timestamp(b) - pd.Timestamp(a) <= pd.Timedelta(days=7) for a, b in windows)
    idx = data.prices.index
    assert str(idx.tz) == "America/New_York"
    assert idx.min().strftime("%H:%M") == "09:30"
    assert idx.max().strftime("%H:%M") == "15:59"
    assert len(idx) == 15 * 390  # 15 weekdays, pre-market minute dropped


def test_one_minute_older_than_thirty_days_refused():
    fake = FakeDownloader([minute_reply])
    with pytest.raises(InputError, match="last 30 days"):
        fetch_yahoo(["C"], "2026-10-01", "2026-10-03", "1m", downloader=fake, now=NOW)
    assert fake.calls == []


@pytest.mark.parametrize(
    ("tickers", "start", "end", "interval", "match"),
    [
        (["AA PL"], "2026-03-02", "2026-03-04", "1d", "not a valid symbol"),
        ([""], "2026-03-02", "2026-03-04", "1d", "not a valid symbol"),
        (["AAPL"], "2026-03-05", "2026-03-04", "1d", "after end"),
        (["AAPL"], "2026-03-02", "2026-03-04", "5m", "interval '5m'"),
    ],
)
def test_bad_input(tickers, start, end, interval, match):
    with pytest.raises(InputError, match=match):
        fetch_yahoo(tickers, start, end, interval, downloader=FakeDownloader([None]), now=NOW)


def test_irx_percent_to_decimal():
    idx = daily_index("2026-03-02", "2026-03-03")
    fake = FakeDownloader([yf_shape({"^IRX": ohlcv(idx, [4.30, 4.32])})])
    series = fetch_irx("2026-03-02", "2026-03-03", downloader=fake)
    np.testing.assert_allclose(series.to_numpy(), [0.043, 0.0432])
    assert series.name == "IRX"


def test_fetch_then_offline_through_the_cli(tmp_path, monkeypatch):
    """`astra data fetch` caches; a second call with --offline is served from the cache."""
    import json

    from typer.testing import CliRunner

    import astra.data.providers.yahoo as yahoo
    from astra.cli import app

    idx = daily_index("2026-03-02", "2026-03-06")
    raw = yf_shape({"AAPL": ohlcv(idx, [1, 2, 3, 4, 5]), "MSFT": ohlcv(idx, [5, 4, 3, 2, 1])})
    monkeypatch.setenv("ASTRA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(yahoo, "_default_downloader", lambda: FakeDownloader([raw]))
    runner = CliRunner()
    args = ["data", "fetch", "AAPL", "MSFT", "--source", "yahoo", "--start", "2026-03-02", "--end", "2026-03-06"]
    first = runner.invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.stderr

    def no_network():
        raise AssertionError("offline must not download")

    monkeypatch.setattr(yahoo, "_default_downloader", no_network)
    second = runner.invoke(app, ["data", "show", *args[2:], "--offline", "--json"])
    assert second.exit_code == 0, second.stderr
    assert json.loads(second.stdout)["close"] == json.loads(first.stdout)["close"]
    assert "served from cache" in " ".join(json.loads(second.stdout)["meta"]["notes"])


@pytest.mark.live
def test_live_download_aapl():  # pragma: no cover - needs the network; run with -m live
    data = fetch_yahoo(["AAPL"], pd.Timestamp.today() - pd.Timedelta(days=10))
    assert len(data.prices) > 0


def test_probe_fails_fast_without_a_network():
    import socket

    from astra.data.providers.yahoo import _probe

    with pytest.raises(DataUnavailable, match=r"could not resolve no-such-host\.invalid"):
        _probe("no-such-host.invalid", timeout=5)  # RFC 2606: .invalid never resolves
    with socket.socket() as closed:  # a loopback port nobody listens on: connection refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DataUnavailable, match=r"connecting to 127\.0\.0\.1"):
        _probe("127.0.0.1", port, timeout=2)
    with socket.socket() as server:  # a listening port: the probe passes
        server.bind(("127.0.0.1", 0))
        server.listen()
        _probe("127.0.0.1", server.getsockname()[1], timeout=2)
