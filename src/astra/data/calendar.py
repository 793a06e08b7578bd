"""The XNYS (NYSE) trading calendar, from :mod:`exchange_calendars`.

Daily data are indexed by session date (tz-naive); intraday data by minute
stamps in America/New_York.  Funding accrual uses :func:`accrual_days`.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from functools import lru_cache

import pandas as pd

from astra.errors import InputError

__all__ = [
    "CALENDAR_FIRST",
    "NEW_YORK",
    "accrual_days",
    "is_session",
    "next_session",
    "previous_session",
    "session_minutes",
    "sessions",
]

NEW_YORK = "America/New_York"
CALENDAR_FIRST = pd.Timestamp("1985-01-02")


def _quiet(func):
    """Silence one named third-party deprecation around exchange_calendars calls.

    exchange_calendars 4.13 reads ``.values`` of tz-aware pandas objects, which
    pandas 3.1 deprecates (Pandas4Warning); it wants UTC nanoseconds, which is
    what it gets. Not ours to fix, and not worth showing to users.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"(Series|DatetimeIndex)\.values returning an ndarray that drops timezone"
            )
            return func(*args, **kwargs)

    return wrapper


@lru_cache(maxsize=1)
def _xnys():
    import exchange_calendars as xcals  # imported lazily: it costs ~0.3 s

    end = pd.Timestamp.today().normalize() + pd.DateOffset(years=2)
    return xcals.get_calendar("XNYS", start=CALENDAR_FIRST, end=end)


def _as_date(value, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name}: {value!r} is not a date (use YYYY-MM-DD)") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(NEW_YORK).tz_localize(None)
    stamp = stamp.normalize()
    cal = _xnys()
    if stamp < cal.first_session or stamp > cal.last_session:
        raise InputError(
            f"{name}: {stamp.date()} is outside the XNYS calendar "
            f"({cal.first_session.date()} to {cal.last_session.date()})"
        )
    return stamp


@_quiet
def sessions(start, end) -> pd.DatetimeIndex:
    """XNYS session dates in ``[start, end]`` (tz-naive, named ``date``)."""
    lo, hi = _as_date(start, "start"), _as_date(end, "end")
    if lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    out = _xnys().sessions_in_range(lo, hi)
    return pd.DatetimeIndex(out, name="date").astype("datetime64[ns]")


@_quiet
def session_minutes(start, end) -> pd.DatetimeIndex:
    """Regular-session minute stamps (bar open times) in America/New_York."""
    days = sessions(start, end)
    if len(days) == 0:
        return pd.DatetimeIndex([], tz=NEW_YORK, name="timestamp")
    minutes = _xnys().sessions_minutes(days[0], days[-1])
    return pd.DatetimeIndex(minutes.tz_convert(NEW_YORK), name="timestamp")


@_quiet
def is_session(day) -> bool:
    """True when ``day`` is an XNYS trading day."""
    return bool(_xnys().is_session(_as_date(day, "date")))


@_quiet
def next_session(day) -> pd.Timestamp:
    """The first XNYS session strictly after ``day``."""
    stamp = _as_date(day, "date")
    cal = _xnys()
    if cal.is_session(stamp):
        return cal.next_session(stamp)
    return cal.date_to_session(stamp, direction="next")


@_quiet
def previous_session(day) -> pd.Timestamp:
    """The last XNYS session strictly before ``day``."""
    stamp = _as_date(day, "date")
    cal = _xnys()
    if cal.is_session(stamp):
        return cal.previous_session(stamp)
    return cal.date_to_session(stamp, direction="previous")


@_quiet
def accrual_days(day) -> int:
    """Calendar days a balance held on ``day`` accrues: until the next session.

    A Friday accrues 3 days, the day before a holiday more.

    Examples
    --------
    >>> accrual_days("2026-03-06")  # a Friday
    3
    """
    stamp = _as_date(day, "date")
    return int((next_session(stamp) - stamp) / dt.timedelta(days=1))
