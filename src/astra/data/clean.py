"""Cleaning: align to the XNYS calendar, forward-fill with a limit, count everything.

Rules (DESIGN, "Data"):

* rows off the exchange calendar (weekends, holidays, out-of-session minutes)
  are dropped;
* missing sessions are forward-filled, at most ``fill_limit`` in a row, and an
  intraday fill never crosses a session boundary;
* nothing is ever back-filled: a ticker's leading missing values stay missing;
* every drop and fill is counted in :class:`DataQuality`.

The fill is causal: whether a value at ``t`` is filled depends only on data at
or before ``t``, so cleaning a prefix of the data gives a prefix of the
cleaned data (pandas ``ffill(limit=k)`` fills the first ``k`` values of a gap;
we deliberately do not look ahead to see how long the gap will last).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from astra.data import calendar
from astra.data._frame import PriceData
from astra.errors import DataUnavailable, InputError

__all__ = ["DataQuality", "TickerQuality", "clean_prices", "returns"]

DEFAULT_FILL_LIMIT = {"1d": 5, "1m": 5}


@dataclass(frozen=True)
class TickerQuality:
    """What cleaning did to one ticker."""

    ticker: str
    observations: int  # valid prices in the input
    off_calendar_dropped: int  # valid prices on rows that are not sessions / session minutes
    leading_missing: int  # rows before the first valid price (left missing, never back-filled)
    missing: int  # rows after the first valid price with no price in the input
    filled: int  # of those, forward-filled (within the limit)
    unfilled: int  # of those, left missing (gap longer than the limit)
    first: str | None
    last: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DataQuality:
    """Data-quality report of one cleaning pass."""

    calendar: str
    interval: str
    fill_limit: int
    rows_in: int
    rows_out: int
    off_calendar_rows: int
    tickers: tuple[TickerQuality, ...]

    @property
    def filled(self) -> int:
        return sum(t.filled for t in self.tickers)

    @property
    def unfilled(self) -> int:
        return sum(t.unfilled for t in self.tickers)

    @property
    def off_calendar_dropped(self) -> int:
        return sum(t.off_calendar_dropped for t in self.tickers)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.to_dict() for t in self.tickers]).set_index("ticker")

    def to_dict(self) -> dict[str, Any]:
        return {
            "calendar": self.calendar,
            "interval": self.interval,
            "fill_limit": self.fill_limit,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "off_calendar_rows": self.off_calendar_rows,
            "filled": self.filled,
            "unfilled": self.unfilled,
            "off_calendar_dropped": self.off_calendar_dropped,
            "tickers": {t.ticker: {k: v for k, v in t.to_dict().items() if k != "ticker"} for t in self.tickers},
        }

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.rows_out} {self.calendar} {'sessions' if self.interval == '1d' else 'minutes'}, "
            f"{len(self.tickers)} tickers: {self.filled} values forward-filled (limit {self.fill_limit}), "
            f"{self.unfilled} left missing, {self.off_calendar_rows} off-calendar rows dropped"
        )


def _target_index(index: pd.DatetimeIndex, interval: str) -> pd.DatetimeIndex:
    if interval == "1d":
        return calendar.sessions(index[0], index[-1])
    first, last = index[0].tz_convert(calendar.NEW_YORK), index[-1].tz_convert(calendar.NEW_YORK)
    grid = calendar.session_minutes(first.tz_localize(None).normalize(), last.tz_localize(None).normalize())
    return grid[(grid >= first) & (grid <= last)]


def clean_prices(data: PriceData, *, fill_limit: int | None = None) -> PriceData:
    """Align ``data`` to the XNYS calendar and forward-fill short gaps.

    Parameters
    ----------
    data : PriceData
        Raw prices from a provider.
    fill_limit : int, optional
        Most consecutive missing rows forward-filled (sessions for daily data,
        minutes within one session for 1-minute data). Default 5.

    Returns
    -------
    PriceData
        Cleaned prices with :attr:`PriceData.quality` set.
    """
    interval = data.meta.interval
    limit = DEFAULT_FILL_LIMIT[interval] if fill_limit is None else int(fill_limit)
    if limit < 0 or limit > 10_000:
        raise InputError(f"fill_limit {fill_limit!r} must be between 0 and 10000")
    raw = data.prices
    if raw.empty:
        raise DataUnavailable(f"{data.meta.source}: no prices to clean")
    target = _target_index(raw.index, interval)
    on_calendar = raw.index.isin(target)
    off_rows = raw.loc[~on_calendar]
    aligned = raw.loc[on_calendar].reindex(target)

    if interval == "1m":  # never carry a price across the overnight gap
        session = aligned.index.tz_convert(calendar.NEW_YORK).normalize()
        filled = aligned.groupby(session).ffill(limit=limit) if limit else aligned.copy()
    else:
        filled = aligned.ffill(limit=limit) if limit else aligned.copy()

    stats = []
    for ticker in aligned.columns:
        col = aligned[ticker].to_numpy()
        valid = ~np.isnan(col)
        first_pos = int(np.argmax(valid)) if valid.any() else len(col)
        after = slice(first_pos, None)
        missing = int((~valid[after]).sum())
        unfilled = int(np.isnan(filled[ticker].to_numpy()[after]).sum())
        first_valid = aligned[ticker].first_valid_index()
        last_valid = aligned[ticker].last_valid_index()
        stats.append(
            TickerQuality(
                ticker=str(ticker),
                observations=int(raw[ticker].notna().sum()),
                off_calendar_dropped=int(off_rows[ticker].notna().sum()),
                leading_missing=first_pos,
                missing=missing,
                filled=missing - unfilled,
                unfilled=unfilled,
                first=None if first_valid is None else first_valid.isoformat(),
                last=None if last_valid is None else last_valid.isoformat(),
            )
        )
    empty = [s.ticker for s in stats if s.observations - s.off_calendar_dropped == 0]
    if empty:
        raise DataUnavailable(f"{data.meta.source}: no prices on trading days for {', '.join(empty)}")
    keep = filled.notna().any(axis=1).to_numpy()
    start = int(np.argmax(keep))  # drop leading rows where no ticker has a price yet
    cleaned = filled.iloc[start:]
    quality = DataQuality(
        calendar="XNYS",
        interval=interval,
        fill_limit=limit,
        rows_in=len(raw),
        rows_out=len(cleaned),
        off_calendar_rows=int((~on_calendar).sum()),
        tickers=tuple(stats),
    )
    return data.with_prices(cleaned, quality=quality)


def returns(prices: pd.DataFrame, kind: str = "simple") -> pd.DataFrame:
    """Per-period returns from prices, with no look-ahead and no filling.

    ``r_t = p_t / p_{t-1} - 1`` (simple) or ``log(p_t / p_{t-1})`` (log): a
    return at ``t`` uses only prices at ``t`` and ``t-1``; a missing price
    gives a missing return. The first row is dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> returns(pd.DataFrame({"A": [100.0, 110.0, 99.0]}))["A"].round(4).tolist()
    [0.1, -0.1]
    """
    if kind not in ("simple", "log"):
        raise InputError(f"returns kind {kind!r}: use 'simple' or 'log'")
    values = prices.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = values[1:] / values[:-1]
        out = np.log(ratio) if kind == "log" else ratio - 1.0
    return pd.DataFrame(out, index=prices.index[1:], columns=prices.columns)
