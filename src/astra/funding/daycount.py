"""Day counts and accrual schedules on the XNYS calendar.

A balance held over a business day accrues the calendar days until the next
business day: a Friday accrues 3, the day before a holiday more. Interest for
``n`` days at annual rate ``r`` is ``r · n / 360`` (ACT/360, USD money market)
or ``r · n / 365`` (ACT/365F).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from astra.data import calendar
from astra.errors import InputError

__all__ = ["DAY_COUNTS", "AccrualSchedule", "accrual_schedule", "check_day_count", "year_fraction"]

DAY_COUNTS = {"ACT/360": 360.0, "ACT/365F": 365.0}


def check_day_count(basis: str) -> float:
    """The denominator of ``basis`` (``ACT/360`` or ``ACT/365F``)."""
    try:
        return DAY_COUNTS[str(basis).upper()]
    except KeyError:
        raise InputError(f"day count {basis!r} is not one of {', '.join(DAY_COUNTS)}") from None


def year_fraction(days, basis: str = "ACT/360"):
    """Year fraction of ``days`` calendar days under ``basis``.

    Examples
    --------
    >>> year_fraction(3)  # a Friday under ACT/360
    0.008333333333333333
    >>> year_fraction(365, "ACT/365F")
    1.0
    """
    denominator = check_day_count(basis)
    return np.asarray(days, dtype=float) / denominator if np.ndim(days) else days / denominator


@dataclass(frozen=True)
class AccrualSchedule:
    """The business days of a period and the calendar days each one accrues."""

    days: pd.DatetimeIndex
    accrual_days: np.ndarray

    @property
    def total_days(self) -> int:
        return int(self.accrual_days.sum())


def accrual_schedule(start, end) -> AccrualSchedule:
    """Business days ``d`` with ``start <= d <= end`` and the calendar days each accrues.

    Both ends are inclusive: each business day of the period accrues its nights up
    to the next business day, so the period covers the calendar days from the
    first session on or after ``start`` up to (not including) the first session
    after ``end``; periods ``[a, b]`` and ``[b + 1 day, c]`` tile.

    Examples
    --------
    >>> s = accrual_schedule("2026-03-02", "2026-03-06")  # Mon..Fri: Friday accrues to Monday
    >>> s.accrual_days.tolist(), s.total_days
    ([1, 1, 1, 1, 3], 7)
    """
    lo = pd.Timestamp(start).normalize()
    hi = pd.Timestamp(end).normalize()
    if hi < lo:
        raise InputError(f"period end {hi.date()} is before its start {lo.date()}")
    if (hi - lo).days > 366 * 30:
        raise InputError(f"period {lo.date()}..{hi.date()} is longer than 30 years")
    days = calendar.sessions(lo, hi)
    if len(days) == 0:
        raise InputError(f"no XNYS business day between {lo.date()} and {hi.date()}")
    following = [*days[1:], calendar.next_session(days[-1])]
    accrual = np.array([(b - a).days for a, b in zip(days, following, strict=True)], dtype=np.int64)
    return AccrualSchedule(days=days, accrual_days=accrual)
