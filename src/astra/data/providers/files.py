"""Prices from CSV or Parquet files, wide or long layout.

Wide: a date column (``date``/``timestamp``/``datetime``, or the first column)
then one column per ticker.  Long: columns ``date``, ``ticker`` and ``close``
(``symbol`` and ``price`` are accepted too).  Every problem is an
:class:`~astra.errors.InputError` that names the file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from astra.data._frame import PriceData, PriceMeta, check_interval, check_price_frame
from astra.errors import InputError

__all__ = ["load_file"]

_DATE_NAMES = ("date", "timestamp", "datetime", "time")
_TICKER_NAMES = ("ticker", "symbol")
_CLOSE_NAMES = ("close", "adj close", "adj_close", "price")


def _read_raw(path: Path, kind: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{kind} file not found: {str(path)!r}")
    try:
        if kind == "csv":
            return pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
        raw = pd.read_parquet(path)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read as {kind}: {exc}") from exc
    except Exception as exc:  # pyarrow raises its own ArrowInvalid family
        if type(exc).__module__.startswith("pyarrow"):
            raise InputError(f"{path}: cannot read as {kind}: {exc}") from exc
        raise
    if isinstance(raw.index, pd.DatetimeIndex):
        raw = raw.reset_index(names=raw.index.name or "date")
    return raw


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _row_label(kind: str, position: int) -> str:
    # CSV: header is line 1, so data row i is line i + 2.
    return f"line {position + 2}" if kind == "csv" else f"row {position}"


def _parse_dates(values: pd.Series, path: Path, kind: str, column: str) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.Series(values)
    else:
        text = values.astype(str).str.strip()
        try:
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
        except ValueError:  # offsets differ between rows (EST/EDT), or some rows have none
            naive = np.flatnonzero(~text.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True).to_numpy())
            if len(naive):
                i = int(naive[0])
                raise InputError(
                    f"{path}: {_row_label(kind, i)}, column {column!r}: {values.iloc[i]!r} has no UTC offset while "
                    "other rows have one; give every timestamp an offset, or none"
                ) from None
            parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"{path}: {_row_label(kind, i)}, column {column!r}: {values.iloc[i]!r} is not a date/timestamp"
        )
    if getattr(parsed.dt, "tz", None) is None and parsed.map(lambda ts: ts.tzinfo is not None).any():
        parsed = pd.to_datetime(parsed, utc=True)
    return pd.DatetimeIndex(parsed)


def _to_numbers(values: pd.Series, path: Path, kind: str, column: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    text = values.astype("string").str.strip()
    blank = text.isna() | text.isin(["", "NA", "NaN", "nan", "null", "None"])
    numbers = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = np.flatnonzero((numbers.isna() & ~blank).to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(f"{path}: {_row_label(kind, i)}, column {column!r}: {values.iloc[i]!r} is not a number")
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def _check_unique(index: pd.DatetimeIndex, path: Path, kind: str, what: str = "") -> None:
    dup = np.flatnonzero(index.duplicated())
    if len(dup):
        i = int(dup[0])
        raise InputError(f"{path}: {_row_label(kind, i)}: duplicate timestamp {index[i]}{what}")


def load_file(path, kind: str | None = None, *, tickers=None, start=None, end=None, interval="1d") -> PriceData:
    """Load prices from a CSV or Parquet file (wide or long layout).

    Parameters
    ----------
    path : path-like
        The file.
    kind : {"csv", "parquet"}, optional
        Defaults to the file extension.
    tickers : sequence of str, optional
        Keep only these (each must be present).
    start, end : date-like, optional
        Inclusive range.
    interval : {"1d", "1m"}
        Daily dates or intraday stamps (naive stamps are read as New York time).
    """
    path = Path(path).expanduser()
    check_interval(interval)
    kind = (kind or path.suffix.lstrip(".")).lower()
    if kind not in ("csv", "parquet", "pq"):
        raise InputError(f"{path}: unknown file type {kind!r}; use a .csv or .parquet file")
    kind = "parquet" if kind == "pq" else kind
    raw = _read_raw(path, kind)
    columns = [str(c) for c in raw.columns]
    raw.columns = columns
    if raw.empty:
        raise InputError(f"{path}: the file has no data rows")
    date_col = _find(columns, _DATE_NAMES) or columns[0]
    ticker_col, close_col = _find(columns, _TICKER_NAMES), _find(columns, _CLOSE_NAMES)
    dates = _parse_dates(raw[date_col], path, kind, date_col)

    if ticker_col is not None:  # long layout
        if close_col is None:
            raise InputError(f"{path}: long layout needs a 'close' column next to {ticker_col!r}")
        names = raw[ticker_col].astype(str).str.strip().str.upper()
        values = _to_numbers(raw[close_col], path, kind, close_col)
        long = pd.DataFrame({"date": dates, "ticker": names.to_numpy(), "close": values})
        dup = np.flatnonzero(long.duplicated(["date", "ticker"]).to_numpy())
        if len(dup):
            i = int(dup[0])
            raise InputError(
                f"{path}: {_row_label(kind, i)}: duplicate timestamp {long['date'].iloc[i]} "
                f"for {long['ticker'].iloc[i]}"
            )
        frame = long.pivot(index="date", columns="ticker", values="close")
    else:  # wide layout
        price_cols = [c for c in columns if c != date_col]
        if not price_cols:
            raise InputError(f"{path}: no price columns next to {date_col!r}")
        unnamed = [c for c in price_cols if not c.strip() or c.startswith("Unnamed")]
        if unnamed:
            raise InputError(f"{path}: a price column has no ticker name ({unnamed[0]!r})")
        _check_unique(dates, path, kind)
        frame = pd.DataFrame({c.strip().upper(): _to_numbers(raw[c], path, kind, c) for c in price_cols}, index=dates)
    source = f"{kind}:{path}"
    frame = check_price_frame(frame, source=source, interval=interval)
    if tickers is not None:
        wanted = [str(t).strip().upper() for t in tickers]
        missing = [t for t in wanted if t not in frame.columns]
        if missing:
            raise InputError(f"{path}: no column for {', '.join(missing)}; it has {', '.join(frame.columns)}")
        frame = frame[wanted]
    frame = _slice(frame, start, end, interval)
    if frame.empty:
        raise InputError(f"{path}: no rows between {start} and {end}")
    tz = "America/New_York" if interval == "1m" else None
    return PriceData(frame, PriceMeta(source=source, interval=interval, timezone=tz, adjusted=False))


def _slice(frame: pd.DataFrame, start, end, interval: str) -> pd.DataFrame:
    lo = None if start is None else pd.Timestamp(start)
    hi = None if end is None else pd.Timestamp(end)
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    if interval == "1m":
        tz = frame.index.tz
        lo = None if lo is None else (lo.tz_localize(tz) if lo.tzinfo is None else lo)
        hi = None if hi is None else (hi.tz_localize(tz) if hi.tzinfo is None else hi)
        if hi is not None and hi == hi.normalize():
            hi = hi + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)  # a bare end date is inclusive
    return frame.loc[lo:hi]
