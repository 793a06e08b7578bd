"""Yahoo Finance prices through yfinance, made strict.

yfinance does not raise when a ticker fails: it returns an empty frame or
all-NaN columns and logs the reason to the ``yfinance`` logger. This provider
captures that log, checks every column, and raises :class:`DataUnavailable`
naming exactly the tickers that failed. Rate limits are retried with
exponential backoff within a bounded total time. 1-minute bars are fetched in
≤ 7-day windows and only for the last 30 days (Yahoo's limits), converted to
America/New_York and restricted to the regular session.

Nothing here touches the network at import time; tests inject ``downloader``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from astra.data._frame import PriceData, PriceMeta, check_interval, check_price_frame
from astra.data.calendar import NEW_YORK
from astra.errors import DataUnavailable, InputError

__all__ = ["INTRADAY_LOOKBACK_DAYS", "INTRADAY_WINDOW_DAYS", "YahooDownloader", "fetch_irx", "fetch_yahoo"]

YahooDownloader = Callable[..., pd.DataFrame]
"""A callable with ``yfinance.download``'s signature."""

INTRADAY_WINDOW_DAYS = 7
INTRADAY_LOOKBACK_DAYS = 30
_TICKER = re.compile(r"^[A-Z0-9^.\-=]{1,15}$")
_RATE_LIMIT = re.compile(r"rate.?limit|too many requests|429", re.IGNORECASE)
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, ConnectionError, TimeoutError)
# What yfinance logs when the request never reached Yahoo (it logs instead of raising).
_UNREACHABLE = re.compile(
    r"DNSError|Could not resolve host|Failed to resolve|Name or service not known|Failed to connect|"
    r"Connection (?:refused|reset|aborted)|timed out|Timeout|Network is unreachable",
    re.IGNORECASE,
)


def _unreachable(reasons: Sequence[str]) -> str | None:
    """A short cause when every reason says the network failed (not the ticker), else None."""
    hits = [_UNREACHABLE.search(r) for r in reasons]
    if not reasons or not all(hits):
        return None
    host = re.search(r"resolve(?: host)?:? ([\w-]+(?:\.[\w-]+)+)", reasons[0])
    return f"could not resolve {host.group(1)}" if host else hits[0].group(0).lower()


_HOST = "query2.finance.yahoo.com"
_PROBE_TIMEOUT_S = 5.0


def _probe(host: str = _HOST, port: int = 443, timeout: float = _PROBE_TIMEOUT_S) -> None:
    """Fail fast when Yahoo cannot be reached at all (no DNS, no route), before yfinance's own retries.

    Name resolution has no timeout of its own, so it runs in a daemon thread bounded by
    ``timeout``; then one TCP connection is opened and closed.
    """
    import socket
    import threading

    found: list = []

    def resolve() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            found.append(exc)

    worker = threading.Thread(target=resolve, daemon=True)
    worker.start()
    worker.join(timeout)
    if not found:
        raise DataUnavailable(f"cannot reach Yahoo Finance (no answer resolving {host} within {timeout:g} s): "
                              "check the network, or use --offline for cached data or --source sample")  # fmt: skip
    if isinstance(found[0], OSError):
        raise DataUnavailable(f"cannot reach Yahoo Finance (could not resolve {host}): check the network, or use "
                              "--offline for cached data or --source sample")  # fmt: skip
    family, kind, proto, _, address = found[0][0]
    try:
        with socket.socket(family, kind, proto) as probe:
            probe.settimeout(timeout)
            probe.connect(address)
    except OSError as exc:
        raise DataUnavailable(f"cannot reach Yahoo Finance (connecting to {host}: {exc.strerror or exc}): check "
                              "the network, or use --offline for cached data or --source sample") from None  # fmt: skip


def _default_downloader() -> YahooDownloader:
    _probe()
    import yfinance

    return yfinance.download


def _check_tickers(tickers: Sequence[str]) -> list[str]:
    names = [str(t).strip().upper() for t in tickers]
    if not names:
        raise InputError("give at least one ticker")
    for name in names:
        if not _TICKER.match(name):
            raise InputError(f"ticker {name!r} is not a valid symbol (letters, digits, ^ . - =, at most 15)")
    return list(dict.fromkeys(names))


class _CaptureLog(logging.Handler):
    """Collects what yfinance logs while one download runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _is_rate_limit(exc: BaseException | str) -> bool:
    if isinstance(exc, BaseException) and type(exc).__name__ == "YFRateLimitError":
        return True
    return bool(_RATE_LIMIT.search(str(exc)))


def _closes(raw: pd.DataFrame | None, tickers: list[str]) -> pd.DataFrame:
    """``Close`` from yfinance's ``(Price, Ticker)`` columns, one column per ticker."""
    if raw is None or raw.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([]), columns=tickers, dtype="float64")
    if isinstance(raw.columns, pd.MultiIndex):
        level = "Price" if "Price" in (raw.columns.names or []) else 0
        if "Close" not in raw.columns.get_level_values(level):
            return pd.DataFrame(index=raw.index, columns=tickers, dtype="float64")
        close = raw.xs("Close", axis=1, level=level)
    else:  # single ticker, flat columns
        close = raw[["Close"]].set_axis(tickers[:1], axis=1) if "Close" in raw.columns else raw.iloc[:, :0]
    close.columns = [str(c).upper() for c in close.columns]
    return close.reindex(columns=tickers).astype("float64")


def _download_once(downloader, tickers, start, end, interval) -> tuple[pd.DataFrame, list[str]]:
    capture = _CaptureLog()
    logger = logging.getLogger("yfinance")
    logger.addHandler(capture)
    try:
        raw = downloader(
            tickers,
            start=start,
            end=end,
            interval=interval,
            auto_adjust=True,
            progress=False,
            threads=False,
            group_by="column",
            multi_level_index=True,
        )
    finally:
        logger.removeHandler(capture)
    return _closes(raw, tickers), capture.messages


def _download(downloader, tickers, start, end, interval, *, sleep, clock, max_attempts, max_total_s) -> pd.DataFrame:
    """One window, all tickers, with rate-limit retries; returns the Close frame."""
    began = clock()
    wanted = list(tickers)
    got: dict[str, pd.Series] = {}
    reasons: dict[str, str] = {}
    delay = 1.0
    for attempt in range(1, max_attempts + 1):
        rate_limited = False
        try:
            close, messages = _download_once(downloader, wanted, start, end, interval)
        except Exception as exc:
            if _is_rate_limit(exc):
                close, messages, rate_limited = None, [str(exc)], True
            elif isinstance(exc, _NETWORK_ERRORS) or type(exc).__module__.split(".")[0] in (
                "requests",
                "curl_cffi",
                "urllib3",
                "yfinance",
            ):
                raise DataUnavailable(f"yahoo: download failed for {', '.join(wanted)}: {exc}") from exc
            else:
                raise
        if close is not None:
            for ticker in wanted:
                series = close[ticker] if ticker in close.columns else None
                if series is not None and series.notna().any():
                    got[ticker] = series
        failed = [t for t in wanted if t not in got]
        for message in messages:
            rate_limited = rate_limited or _is_rate_limit(message)
            for ticker in failed:
                if ticker in message.upper():
                    reasons[ticker] = message.strip()
        if not failed:
            break
        if not rate_limited:
            cause = _unreachable([reasons[t] for t in failed if t in reasons])
            if cause is not None:
                raise DataUnavailable(
                    f"cannot reach Yahoo Finance ({cause}): check the network, or use --offline for cached data "
                    "or --source sample"
                )
            detail = "; ".join(f"{t}: {reasons[t]}" for t in failed if t in reasons)
            raise DataUnavailable(
                f"yahoo returned no prices for {', '.join(failed)} ({start} to {end}, {interval})"
                + (f": {detail}" if detail else "; unknown or delisted ticker?")
            )
        elapsed = clock() - began
        if attempt == max_attempts or elapsed + delay > max_total_s:
            raise DataUnavailable(
                f"yahoo rate-limited the download of {', '.join(failed)} after {attempt} attempts "
                f"({elapsed:.0f} s); try later or use --offline with cached data"
            )
        sleep(delay)
        delay = min(delay * 2.0, 30.0)
        wanted = failed
    frame = pd.DataFrame(got).reindex(columns=list(tickers))
    return frame.dropna(how="all")


def _windows(start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Half-open ``[lo, hi)`` day windows of at most 7 days covering ``[start, end]``."""
    out = []
    lo, stop = start.normalize(), end.normalize() + pd.Timedelta(days=1)
    while lo < stop:
        hi = min(lo + pd.Timedelta(days=INTRADAY_WINDOW_DAYS), stop)
        out.append((lo, hi))
        lo = hi
    return out


def fetch_yahoo(
    tickers: Sequence[str],
    start,
    end=None,
    interval: str = "1d",
    *,
    downloader: YahooDownloader | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: pd.Timestamp | None = None,
    max_attempts: int = 4,
    max_total_s: float = 60.0,
) -> PriceData:
    """Download close prices (adjusted) from Yahoo Finance.

    Parameters
    ----------
    tickers : sequence of str
    start, end : date-like
        Inclusive dates (``end`` defaults to today).
    interval : {"1d", "1m"}
        1-minute bars only for the last 30 days, fetched in ≤ 7-day windows.
    downloader : callable, optional
        ``yfinance.download`` or a stand-in with its signature (tests).
    sleep, clock, now : injectable time sources (tests).
    max_attempts, max_total_s : bounds on rate-limit retries.

    Raises
    ------
    DataUnavailable
        Empty download, all-NaN tickers (named), network failure, rate limit exhausted.
    InputError
        Bad ticker, start after end, unsupported interval, 1-minute range too old.
    """
    check_interval(interval)
    names = _check_tickers(tickers)
    now = pd.Timestamp.now(tz=NEW_YORK) if now is None else pd.Timestamp(now)
    today = (now.tz_convert(NEW_YORK) if now.tzinfo else now).tz_localize(None).normalize()
    try:
        lo = pd.Timestamp(start).normalize()
        hi = today if end is None else pd.Timestamp(end).normalize()
    except (ValueError, TypeError) as exc:
        raise InputError(f"bad date: {exc}") from exc
    if lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    downloader = downloader or _default_downloader()
    kwargs = {"sleep": sleep, "clock": clock, "max_attempts": max_attempts, "max_total_s": max_total_s}
    if interval == "1d":
        # yfinance's end is exclusive: add a day so the user's end date is included.
        end_exclusive = (hi + pd.Timedelta(days=1)).date().isoformat()
        frame = _download(downloader, names, lo.date().isoformat(), end_exclusive, "1d", **kwargs)
        tz = None
    else:
        oldest = today - pd.Timedelta(days=INTRADAY_LOOKBACK_DAYS)
        if lo < oldest:
            raise InputError(
                f"Yahoo serves 1-minute bars only for the last {INTRADAY_LOOKBACK_DAYS} days: "
                f"start {lo.date()} is before {oldest.date()}; use --interval 1d or a later start"
            )
        parts = [
            _download(downloader, names, a.date().isoformat(), b.date().isoformat(), "1m", **kwargs)
            for a, b in _windows(lo, hi)
        ]
        frame = pd.concat([p for p in parts if not p.empty]) if any(not p.empty for p in parts) else parts[0]
        frame = frame[~frame.index.duplicated(keep="last")].sort_index()
        tz = NEW_YORK
    if frame.empty:
        raise DataUnavailable(f"yahoo returned no prices for {', '.join(names)} ({lo.date()} to {hi.date()})")
    frame = check_price_frame(frame, source="yahoo", interval=interval)
    if interval == "1m":
        minutes = frame.index.hour * 60 + frame.index.minute
        frame = frame[(minutes >= 9 * 60 + 30) & (minutes < 16 * 60)]
    return PriceData(frame, PriceMeta(source="yahoo", interval=interval, adjusted=True, timezone=tz))


def fetch_irx(start, end=None, *, downloader: YahooDownloader | None = None, **kwargs) -> pd.Series:
    """The 13-week T-bill discount rate (^IRX) as a decimal daily series named ``IRX``.

    Yahoo quotes ^IRX in percent (4.3 means 4.3 %); this returns 0.043. The
    money-market conversion is :func:`astra.data.rates.discount_to_money_market`.
    """
    names = ["^IRX"]
    now = kwargs.pop("now", None)
    now = pd.Timestamp.now(tz=NEW_YORK) if now is None else pd.Timestamp(now)
    lo = pd.Timestamp(start).normalize()
    hi = (now.tz_localize(None) if now.tzinfo is None else now.tz_convert(NEW_YORK).tz_localize(None)).normalize()
    hi = hi if end is None else pd.Timestamp(end).normalize()
    if lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    retry = {k: kwargs[k] for k in ("sleep", "clock", "max_attempts", "max_total_s") if k in kwargs}
    retry.setdefault("sleep", time.sleep)
    retry.setdefault("clock", time.monotonic)
    retry.setdefault("max_attempts", 4)
    retry.setdefault("max_total_s", 60.0)
    frame = _download(
        downloader or _default_downloader(),
        names,
        lo.date().isoformat(),
        (hi + pd.Timedelta(days=1)).date().isoformat(),
        "1d",
        **retry,
    )
    if frame.empty:
        raise DataUnavailable(f"yahoo returned no ^IRX fixings between {lo.date()} and {hi.date()}")
    index = pd.DatetimeIndex(frame.index)
    index = index.tz_localize(None) if index.tz is not None else index
    series = pd.Series(frame["^IRX"].to_numpy(dtype="float64") / 100.0, index=index.normalize(), name="IRX")
    series.index.name = "date"
    return series.dropna()
