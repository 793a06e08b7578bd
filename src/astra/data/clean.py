"""Cleaning: align to the XNYS calendar, forward-fill with a limit, count everything.

Rules (DESIGN, "Data"):

* rows off the exchange calendar (weekends, holidays, out-of-session minutes)
  are dropped;
* missing sessions are forward-filled, at most ``fill_limit`` in a row, and an
  intraday fill never crosses a session boundary;
* nothing is ever back-filled: a ticker's leading missing values stay missing;
* every drop and fill is counted in :class:`DataQuality`, and the rows before a
  ticker's first price (a later listing) are counted apart from gaps in its history.

Rows are never dropped because *another* ticker has no price: a ragged panel stays
ragged. Where a method needs every name on the same days, :func:`align_returns` says
what the common window costs (days dropped, the ticker that limits it) or estimates
the covariance pairwise instead (made positive semi-definite by
:func:`nearest_correlation`).

The fill is causal: whether a value at ``t`` is filled depends only on data at
or before ``t``, so cleaning a prefix of the data gives a prefix of the
cleaned data (pandas ``ffill(limit=k)`` fills the first ``k`` values of a gap;
we deliberately do not look ahead to see how long the gap will last).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from astra.data import calendar
from astra.data._frame import PriceData
from astra.errors import DataUnavailable, InputError

__all__ = [
    "ALIGNS",
    "AlignedReturns",
    "DataQuality",
    "TickerQuality",
    "align_returns",
    "clean_prices",
    "nearest_correlation",
    "pairwise_covariance",
    "returns",
]

DEFAULT_FILL_LIMIT = {"1d": 5, "1m": 5}


@dataclass(frozen=True)
class TickerQuality:
    """What cleaning did to one ticker."""

    ticker: str
    observations: int  # valid prices in the input
    off_calendar_dropped: int  # valid prices on rows that are not sessions / session minutes
    leading_missing: int  # output rows before the first valid price: not yet listed (never back-filled)
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
    complete_rows: int | None = None  # output rows where every ticker has a price (after filling)

    @property
    def pre_listing(self) -> int:
        """Missing values before each ticker's first price (a later listing, not a gap)."""
        return sum(t.leading_missing for t in self.tickers)

    @property
    def late_listings(self) -> tuple[TickerQuality, ...]:
        """Tickers whose first price comes after the first row, latest first."""
        late = [t for t in self.tickers if t.leading_missing > 0]
        return tuple(sorted(late, key=lambda t: -t.leading_missing))

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
            "pre_listing": self.pre_listing,
            "complete_rows": self.complete_rows,
            "tickers": {t.ticker: {k: v for k, v in t.to_dict().items() if k != "ticker"} for t in self.tickers},
        }

    def summary(self) -> str:
        """One line for people.

        Examples
        --------
        >>> from astra.data import PriceMeta
        >>> days = calendar.sessions("2024-01-02", "2024-01-10")
        >>> raw = pd.DataFrame({"A": [1.0] * 7, "B": [np.nan] * 3 + [2.0] * 4}, index=days)
        >>> quality = clean_prices(PriceData(raw, PriceMeta(source="test"))).quality
        >>> quality.pre_listing, quality.complete_rows
        (3, 4)
        >>> "3 before a listing (B from 2024-01-05); 4 sessions have every ticker" in quality.summary()
        True
        """
        unit = "sessions" if self.interval == "1d" else "minutes"
        late = self.late_listings
        ragged = ""
        if late:
            shown = ", ".join(f"{t.ticker} from {(t.first or '')[:10]}" for t in late[:3])
            more = f" and {len(late) - 3} more" if len(late) > 3 else ""
            ragged = f", {self.pre_listing} before a listing ({shown}{more})"
        if self.complete_rows is not None and self.complete_rows < self.rows_out:
            ragged += f"; {self.complete_rows} {unit} have every ticker"
        return (
            f"{self.rows_out} {self.calendar} {unit}, {len(self.tickers)} tickers: {self.filled} values "
            f"forward-filled (limit {self.fill_limit}), {self.unfilled} left missing in a history{ragged}; "
            f"{self.off_calendar_rows} off-calendar rows dropped"
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
    # pre-listing gaps as the user sees them: output rows before each ticker's first price
    stats = [replace(t, leading_missing=max(t.leading_missing - start, 0)) for t in stats]
    quality = DataQuality(
        calendar="XNYS",
        interval=interval,
        fill_limit=limit,
        rows_in=len(raw),
        rows_out=len(cleaned),
        off_calendar_rows=int((~on_calendar).sum()),
        tickers=tuple(stats),
        complete_rows=int(cleaned.notna().all(axis=1).sum()),
    )
    return data.with_prices(cleaned, quality=quality)


def returns(prices: pd.DataFrame, kind: str = "simple") -> pd.DataFrame:
    """Per-period returns from prices, with no look-ahead and no filling.

    ``r_t = p_t / p_{t-1} - 1`` (simple) or ``log(p_t / p_{t-1})`` (log): a
    return at ``t`` uses only prices at ``t`` and ``t-1``; a missing price
    gives a missing return. The first row is dropped; no other row is: the
    panel stays ragged (a ticker listed later has NaN before its first return).
    Use :func:`align_returns` to put every name on the same days, and to be
    told what that costs.

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


# ---------------------------------------------------------------- alignment of ragged returns
ALIGNS = ("common", "pairwise")
DEFAULT_MIN_OVERLAP = 60  # common days two names need for a pairwise covariance


@dataclass(frozen=True)
class AlignedReturns:
    """Returns of a ragged panel made usable, and what it cost.

    ``align="common"``: ``returns`` keeps only the days where every name has a return (any
    estimator can use it); ``dropped`` days are counted, with the tickers whose first (last)
    return sets the window's start (end) and the days lost to gaps inside it.
    ``align="pairwise"``: ``returns`` is the whole panel (NaN kept), for a covariance estimated
    pair by pair on each pair's common days (:meth:`covariance`); methods that need whole
    days (historical P&L) must still use the common window.
    """

    returns: pd.DataFrame
    align: str
    rows_in: int
    dropped: int
    start_limited_by: tuple[str, ...]
    end_limited_by: tuple[str, ...]
    gap_days: int  # days inside the common window where some name has no return
    min_pair_overlap: int  # fewest common days of any pair of names
    min_overlap: int
    note: str

    def covariance(self, *, ddof: int = 1) -> pd.DataFrame:
        """Sample covariance of the returns: on the common days, or pairwise made PSD (:func:`pairwise_covariance`)."""
        if self.align == "common":
            return self.returns.cov(ddof=ddof)
        return pairwise_covariance(self.returns, min_overlap=self.min_overlap, ddof=ddof)

    def to_frame(self) -> pd.DataFrame:
        return self.returns.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "align": self.align,
            "rows_in": self.rows_in,
            "rows_used": len(self.returns),
            "dropped": self.dropped,
            "start_limited_by": list(self.start_limited_by),
            "end_limited_by": list(self.end_limited_by),
            "gap_days": self.gap_days,
            "min_pair_overlap": self.min_pair_overlap,
            "min_overlap": self.min_overlap,
            "note": self.note,
        }


def _stamp(value) -> str:
    stamp = pd.Timestamp(value)
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


def align_returns(
    returns: pd.DataFrame, align: str = "common", *, min_overlap: int = DEFAULT_MIN_OVERLAP
) -> AlignedReturns:
    """Align a ragged panel of returns, saying how many days it costs and which ticker limits it.

    Parameters
    ----------
    returns : DataFrame
        Returns (days × tickers), NaN where a ticker has none (before its listing, in a gap),
        as :func:`returns` gives them.
    align : {"common", "pairwise"}
        ``common``: keep the days where every ticker has a return. ``pairwise``: keep the
        panel; the covariance is estimated on each pair's common days and made positive
        semi-definite.
    min_overlap : int
        ``pairwise``: fewest common days a pair needs (default 60); fewer is an ``InputError``
        naming the pair.

    Returns
    -------
    AlignedReturns

    Examples
    --------
    >>> days = pd.date_range("2024-01-01", periods=6, freq="B")
    >>> panel = pd.DataFrame({"OLD": [0.01, -0.02, 0.0, 0.01, 0.02, -0.01],
    ...                       "NEW": [np.nan, np.nan, np.nan, 0.01, 0.0, 0.01]}, index=days)
    >>> aligned = align_returns(panel)
    >>> len(aligned.returns), aligned.dropped, aligned.start_limited_by
    (3, 3, ('NEW',))
    >>> aligned.note.endswith("(3 dropped: 3 before NEW's first return)")
    True
    """
    if align not in ALIGNS:
        raise InputError(f"align {align!r} is not one of common, pairwise")
    if isinstance(min_overlap, bool) or not isinstance(min_overlap, int | np.integer) or min_overlap < 2:
        raise InputError(f"min_overlap {min_overlap!r} must be a whole number of days ≥ 2")
    frame = returns.loc[returns.notna().any(axis=1)]  # days where nothing trades carry no information
    if frame.shape[1] == 0 or frame.empty:
        raise InputError("no returns to align")
    valid = frame.notna().to_numpy()
    names = [str(c) for c in frame.columns]
    firsts = valid.argmax(axis=0)
    lasts = len(frame) - 1 - valid[::-1].argmax(axis=0)
    never = [names[i] for i in np.flatnonzero(~valid.any(axis=0))]
    if never:
        raise InputError(f"no return at all for {', '.join(never)}")
    lo, hi = int(firsts.max()), int(lasts.min())
    start_by = tuple(names[i] for i in np.flatnonzero(firsts == lo)) if lo > 0 else ()
    end_by = tuple(names[i] for i in np.flatnonzero(lasts == hi)) if hi < len(frame) - 1 else ()
    every = valid.all(axis=1)
    common = frame.loc[every]
    gap_days = int((~every[lo : hi + 1]).sum()) if hi >= lo else 0
    counts = valid.T.astype(np.int64) @ valid.astype(np.int64)  # common days of every pair
    least = int(counts[np.triu_indices(len(names), k=1)].min()) if len(names) > 1 else int(counts[0, 0])
    if align == "common":
        if common.empty:
            raise InputError(
                f"no day where every ticker has a return ({_limits(names, frame, firsts, lasts, lo, hi)}); "
                "use align='pairwise' or drop a ticker"
            )
        note = _common_note(frame, common, start_by, end_by, lo, hi, gap_days, names, valid)
        kept, dropped = common, len(frame) - len(common)
    else:
        if least < min_overlap:
            i, j = np.argwhere(np.triu(counts < min_overlap, k=1))[0]
            raise InputError(
                f"{names[i]} and {names[j]} have {counts[i, j]} common days of returns; a pairwise covariance needs "
                f"min_overlap = {min_overlap}"
            )
        note = (
            f"pairwise: each pair's covariance on its own common days ({least} to {len(frame)}), made positive "
            f"semi-definite (nearest correlation, Higham 2002); {len(common)} of {len(frame)} days have every ticker"
        )
        kept, dropped = frame, 0
    return AlignedReturns(kept, align, len(frame), dropped, start_by, end_by, gap_days, least, int(min_overlap), note)


def _limits(names, frame, firsts, lasts, lo, hi) -> str:
    return (
        f"{names[int(np.argmax(firsts))]} starts {_stamp(frame.index[lo])}, "
        f"{names[int(np.argmin(lasts))]} ends {_stamp(frame.index[hi])}"
    )


def _common_note(frame, common, start_by, end_by, lo, hi, gap_days, names, valid) -> str:
    parts = []
    if start_by:
        parts.append(f"{lo} before {', '.join(start_by)}'s first return")
    if end_by:
        parts.append(f"{len(frame) - 1 - hi} after {', '.join(end_by)}'s last")
    if gap_days:
        holes = (~valid[lo : hi + 1]).sum(axis=0)
        worst = names[int(np.argmax(holes))]
        parts.append(f"{gap_days} with a gap inside the window (most in {worst})")
    dropped = len(frame) - len(common)
    cost = f" ({dropped} dropped: {'; '.join(parts)})" if dropped else ""
    return (
        f"common window {_stamp(common.index[0])} to {_stamp(common.index[-1])}: {len(common)} of {len(frame)} days "
        f"where every ticker has a return{cost}"
    )


def pairwise_covariance(
    returns: pd.DataFrame, *, min_overlap: int = DEFAULT_MIN_OVERLAP, ddof: int = 1
) -> pd.DataFrame:
    """Covariance of each pair on the days both have a return, made positive semi-definite.

    Each entry is the sample covariance over the pair's common days (its own means, as
    ``DataFrame.cov``); the variances use each name's whole history. Such a matrix need not be
    positive semi-definite, so its correlation is replaced by the nearest correlation matrix
    (:func:`nearest_correlation`, Higham 2002) and rescaled by the variances: variances are kept,
    and with no gaps the result is the ordinary sample covariance.
    """
    counts = returns.notna().to_numpy().astype(np.int64)
    overlap = counts.T @ counts
    short = np.argwhere(np.triu(overlap < min_overlap, k=1))
    if len(short):
        i, j = short[0]
        raise InputError(
            f"{returns.columns[i]} and {returns.columns[j]} have {overlap[i, j]} common days of returns; "
            f"a pairwise covariance needs min_overlap = {min_overlap}"
        )
    cov = returns.cov(min_periods=int(min_overlap), ddof=ddof).to_numpy()
    sd = np.sqrt(np.diag(cov))
    if not np.all(sd > 0):
        flat = returns.columns[int(np.argmin(sd))]
        raise InputError(f"{flat} has no variance; a covariance is not defined")
    corr = nearest_correlation(cov / np.outer(sd, sd))
    return pd.DataFrame(corr * np.outer(sd, sd), index=returns.columns, columns=returns.columns)


def nearest_correlation(matrix, *, tol: float = 1e-12, max_iter: int = 1_000) -> np.ndarray:
    """The nearest correlation matrix (Frobenius norm): Higham's (2002) alternating projections.

    Projections onto the positive semi-definite cone and onto unit-diagonal matrices, with
    Dykstra's correction; a matrix that is already a correlation matrix comes back unchanged.
    The result is then clipped to exact positive semi-definiteness and unit diagonal.

    Examples
    --------
    >>> nearest_correlation([[1, 1, 0], [1, 1, 1], [0, 1, 1]]).round(4)  # Higham (2002), §4
    array([[1.    , 0.7607, 0.1573],
           [0.7607, 1.    , 0.7607],
           [0.1573, 0.7607, 1.    ]])
    """
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not np.isfinite(a).all():
        raise InputError("a correlation matrix must be square and finite")
    a = 0.5 * (a + a.T)

    def psd(m):
        values, vectors = np.linalg.eigh(m)
        return (vectors * np.maximum(values, 0.0)) @ vectors.T

    if np.linalg.eigvalsh(a)[0] >= 0 and np.allclose(np.diag(a), 1.0, rtol=0, atol=1e-14):
        return a  # already a correlation matrix
    y, correction = a.copy(), np.zeros_like(a)
    for _ in range(max_iter):
        r = y - correction
        x = psd(r)
        correction = x - r
        y_next = x.copy()
        np.fill_diagonal(y_next, 1.0)
        done = np.linalg.norm(y_next - y) <= tol * np.linalg.norm(y_next)
        y = y_next
        if done:
            break
    x = psd(y)  # exact PSD, then unit diagonal by a congruence (keeps it PSD)
    d = np.sqrt(np.diag(x))
    out = x / np.outer(d, d)
    np.fill_diagonal(out, 1.0)
    return 0.5 * (out + out.T)
