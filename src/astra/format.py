"""How ASTRA writes numbers for people: one rounding for the report, the dashboard and the CLI.

Pure Python and pandas; no interface imports. Every formatter takes a value (float, int,
numpy scalar, ``None`` or NaN) and returns a string:

========  ==========================================  =====================
kind      value inside                                shown
========  ==========================================  =====================
money     USD                                         ``-$1,234.50``
shares    signed share count                          ``-12,000``
pct       decimal fraction (0.043)                    ``4.30%``
pct_pts   already in percent (4.3)                    ``4.30%``
bp        already in basis points (12.5)              ``12.5 bp``
weight    decimal fraction of equity (0.25)           ``25.00%``
date      date or timestamp                           ``2022-12-01``
datetime  timestamp (intraday)                        ``2022-12-01 09:31``
ratio     plain number (Sharpe, β, p-value…)          ``1.23``
count     integer                                     ``1,234``
text      anything else                               ``str(value)``
========  ==========================================  =====================

Rules that hold for every kind: no scientific notation; a value that rounds to zero is
shown without a minus sign (``-0.0`` and ``-1e-12`` become ``$0.00``); ``None``, NaN and NaT
are shown as :data:`MISSING` (an em dash); ±inf as ``∞``/``-∞``. :func:`format_frame`
also zeroes solver noise: values below ``rel_tol`` times the column's largest magnitude.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "KINDS",
    "MISSING",
    "NOISE_REL_TOL",
    "bp",
    "clean_noise",
    "count",
    "date",
    "datetime",
    "export_frame",
    "format_frame",
    "format_value",
    "is_missing",
    "money",
    "pct",
    "ratio",
    "shares",
    "text",
    "weight",
]

MISSING = "\u2014"  # em dash
NOISE_REL_TOL = 1e-9  # |x| below this × the column's largest |x| is solver noise, shown as 0


def is_missing(value: Any) -> bool:
    """``None``, NaN, NaT or ``pd.NA``."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # containers
        return False


def _number(value: Any) -> float:
    return float(value)


def _fixed(x: float, digits: int, separators: bool = True) -> str:
    """``x`` with ``digits`` decimals, thousands separators, and no ``-0``."""
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    rounded = round(x, digits)
    if rounded == 0:
        rounded = 0.0  # drops the sign of -0.0 and of noise that rounds to zero
    spec = f",.{digits}f" if separators else f".{digits}f"
    return format(rounded, spec)


def _signed(body: str, negative: bool, prefix: str = "", suffix: str = "") -> str:
    return f"-{prefix}{body}{suffix}" if negative else f"{prefix}{body}{suffix}"


def money(value: Any, digits: int = 2, *, missing: str = MISSING, symbol: str = "$") -> str:
    """USD with thousands separators, the minus sign before the symbol: ``-$1,234.50``.

    Parameters
    ----------
    value : float
        Amount in USD.
    digits : int
        Decimals shown (2 = cents).
    """
    if is_missing(value):
        return missing
    x = _number(value)
    if math.isinf(x):
        return _fixed(x, digits)
    body = _fixed(abs(x), digits)
    return _signed(body, x < 0 and body.strip("0.,") != "", prefix=symbol)


def shares(value: Any, digits: int = 0, *, missing: str = MISSING) -> str:
    """A signed share count with separators (short < 0): ``-12,000``; fractions only if ``digits``."""
    if is_missing(value):
        return missing
    return _fixed(_number(value), digits)


def pct(value: Any, digits: int = 2, *, points: bool = False, signed: bool = False, missing: str = MISSING) -> str:
    """A rate or return as percent: ``0.043`` → ``4.30%``.

    Parameters
    ----------
    value : float
        Decimal fraction, or percent points when ``points`` is true (``4.3`` → ``4.30%``).
    digits : int
        Decimals of the percentage.
    signed : bool
        Show ``+`` on positive values (returns, P&L in % of gross).
    """
    if is_missing(value):
        return missing
    x = _number(value) * (1.0 if points else 100.0)
    body = _fixed(x, digits)
    if signed and x > 0 and body.strip("0.,") != "":
        body = "+" + body
    return body + "%"


def weight(value: Any, digits: int = 2, *, missing: str = MISSING) -> str:
    """A portfolio weight (decimal fraction of equity) as percent: ``-0.125`` → ``-12.50%``."""
    return pct(value, digits, missing=missing)


def bp(value: Any, digits: int = 1, *, from_decimal: bool = False, missing: str = MISSING) -> str:
    """Basis points: ``12.5`` → ``12.5 bp``; ``from_decimal`` converts a decimal rate first (×10⁴)."""
    if is_missing(value):
        return missing
    x = _number(value) * (1e4 if from_decimal else 1.0)
    return _fixed(x, digits) + " bp"


def ratio(value: Any, digits: int = 2, *, missing: str = MISSING) -> str:
    """A plain number with fixed decimals and separators: ``1234.5678`` → ``1,234.57``."""
    if is_missing(value):
        return missing
    return _fixed(_number(value), digits)


def count(value: Any, *, missing: str = MISSING) -> str:
    """An integer count with separators: ``12345`` → ``12,345``."""
    if is_missing(value):
        return missing
    return _fixed(_number(value), 0)


def date(value: Any, *, missing: str = MISSING) -> str:
    """A plain ISO date, ``2022-12-01`` (any time of day is dropped; tz-aware stamps keep their local date)."""
    if is_missing(value):
        return missing
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return pd.Timestamp(value).date().isoformat()


def datetime(value: Any, *, missing: str = MISSING) -> str:
    """An intraday stamp to the minute in its own time zone, ``2022-12-01 09:31``; a bare date if at midnight."""
    if is_missing(value):
        return missing
    stamp = pd.Timestamp(value)
    if stamp == stamp.normalize():
        return stamp.date().isoformat()
    return stamp.strftime("%Y-%m-%d %H:%M")


def text(value: Any, *, missing: str = MISSING) -> str:
    """``str(value)``, with the missing marker for ``None``/NaN."""
    if is_missing(value):
        return missing
    return str(value)


def _pct_points(value: Any, digits: int = 2, **options) -> str:
    return pct(value, digits, points=True, **options)


KINDS: dict[str, Callable[..., str]] = {
    "money": money,
    "shares": shares,
    "pct": pct,
    "pct_pts": _pct_points,
    "bp": bp,
    "weight": weight,
    "date": date,
    "datetime": datetime,
    "ratio": ratio,
    "count": count,
    "text": text,
}
_NUMERIC = {"money", "shares", "pct", "pct_pts", "bp", "weight", "ratio", "count"}

Kind = str | tuple[str, Mapping[str, Any]] | Callable[[Any], str]


def format_value(value: Any, kind: str = "ratio", **options) -> str:
    """Format one value as ``kind`` (a key of :data:`KINDS`); ``options`` go to that formatter."""
    try:
        formatter = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown format kind {kind!r}; expected one of {', '.join(KINDS)}") from None
    return formatter(value, **options)


def clean_noise(values, rel_tol: float = NOISE_REL_TOL, abs_tol: float = 0.0):
    """Set to exactly 0.0 the entries with ``|x| ≤ max(abs_tol, rel_tol · max|x|)`` (solver noise).

    Parameters
    ----------
    values : array-like or pandas.Series of float
        One column (the scale is its largest finite magnitude). NaN stays NaN.
    rel_tol : float
        Tolerance relative to the column's scale (default 1e-9).
    abs_tol : float
        Absolute floor, in the column's units (e.g. 1e-9 for weights).

    Returns
    -------
    The same type as ``values`` (Series keep their index and name); ``-0.0`` becomes ``0.0``.
    """
    array = np.array(values, dtype=float, copy=True)
    finite = np.isfinite(array)
    scale = float(np.max(np.abs(array[finite]))) if finite.any() else 0.0
    tol = max(abs_tol, rel_tol * scale)
    array[finite & (np.abs(array) <= tol)] = 0.0
    if isinstance(values, pd.Series):
        return pd.Series(array, index=values.index, name=values.name)
    return array


def _formatter(kind: Kind) -> tuple[Callable[[Any], str], bool]:
    if callable(kind):
        return kind, False
    name, options = (kind, {}) if isinstance(kind, str) else (kind[0], dict(kind[1]))
    if name not in KINDS:
        raise ValueError(f"unknown format kind {name!r}; expected one of {', '.join(KINDS)}")
    function = KINDS[name]
    return (lambda value: function(value, **options)), name in _NUMERIC


def _infer(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "text"
    if pd.api.types.is_integer_dtype(column):
        return "count"
    if pd.api.types.is_float_dtype(column):
        return "ratio"
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = column.dropna()
        return "date" if (stamps == stamps.dt.normalize()).all() else "datetime"
    return "text"


def format_frame(
    frame: pd.DataFrame,
    kinds: Mapping[Any, Kind] | None = None,
    *,
    index: Kind | None = None,
    rel_tol: float = NOISE_REL_TOL,
) -> pd.DataFrame:
    """A copy of ``frame`` with every cell a display string, column by column by declared kind.

    Parameters
    ----------
    frame : pandas.DataFrame
        Values in ASTRA's internal units (USD, shares, decimals, bp where the name says so).
    kinds : mapping
        Column → kind: a name from :data:`KINDS`, a ``(name, options)`` pair such as
        ``("pct", {"digits": 1, "signed": True})``, or any callable ``value → str``.
        Columns left out are inferred from their dtype (integers → count, floats → ratio,
        datetimes → date, anything else → text).
    index : kind, optional
        How to show the index (dates are inferred as for columns).
    rel_tol : float
        Numeric columns first go through :func:`clean_noise` with this tolerance.

    Returns
    -------
    pandas.DataFrame
        Same shape, index names and column names; object dtype (strings).

    Examples
    --------
    >>> format_frame(pd.DataFrame({"pnl": [-1234.5, 5e-11]}), {"pnl": "money"})["pnl"].tolist()
    ['-$1,234.50', '$0.00']
    """
    kinds = dict(kinds or {})
    out = pd.DataFrame(index=frame.index)
    for position, column in enumerate(frame.columns):
        series = frame.iloc[:, position]
        function, numeric = _formatter(kinds.get(column, _infer(series)))
        if numeric and (pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series)):
            series = clean_noise(series.astype(float), rel_tol)
        out[position] = [function(v) for v in series]
    out.columns = frame.columns
    out.index = _format_index(frame.index, index)
    return out


def _format_index(idx: pd.Index, kind: Kind | None) -> pd.Index:
    if isinstance(idx, pd.MultiIndex):
        return idx
    if kind is None:
        if isinstance(idx, pd.DatetimeIndex):
            kind = _infer(idx.to_series())
        else:
            return idx
    function, _ = _formatter(kind)
    return pd.Index([function(v) for v in idx], name=idx.name)


def export_frame(
    frame: pd.DataFrame,
    *,
    index_name: str | None = None,
    abs_tol: float | Mapping[Any, float] = 0.0,
    rel_tol: float = NOISE_REL_TOL,
    iso_dates: bool = True,
) -> pd.DataFrame:
    """A copy of ``frame`` ready to write as CSV (or, with ``iso_dates=False``, Parquet).

    Numbers stay numbers (full precision, machine-readable); what changes is what a person
    opening the file would trip on:

    * the index gets ``index_name`` when it has no name (no blank first header);
    * float columns go through :func:`clean_noise` (``abs_tol`` may be one number or a
      column → tolerance mapping, e.g. ``1e-9`` for weights), so ``5e-11`` is written ``0``;
    * with ``iso_dates``, datetime columns and index become ISO 8601 text: ``2022-12-01``
      when every stamp is at midnight (daily data), else ``2024-03-01T09:31:00-05:00``.

    Examples
    --------
    >>> w = pd.DataFrame({"w": [0.5, 5e-11]}, index=["AAPL", "MSFT"])
    >>> export_frame(w, index_name="ticker", abs_tol=1e-9).reset_index().values.tolist()
    [['AAPL', 0.5], ['MSFT', 0.0]]
    """
    out = frame.copy()
    for position, column in enumerate(out.columns):
        series = out.iloc[:, position]
        if pd.api.types.is_float_dtype(series):
            tol = abs_tol.get(column, 0.0) if isinstance(abs_tol, Mapping) else abs_tol
            out.iloc[:, position] = clean_noise(series, rel_tol, tol).to_numpy()
        elif iso_dates and (pd.api.types.is_datetime64_any_dtype(series) or _holds_stamps(series)):
            out[column] = _iso(pd.DatetimeIndex(series)).to_numpy()
    if iso_dates and isinstance(out.index, pd.DatetimeIndex):
        out.index = pd.Index(_iso(out.index), name=out.index.name)
    if out.index.name is None and index_name is not None and not isinstance(out.index, pd.MultiIndex):
        out.index = out.index.rename(index_name)
    return out


def _holds_stamps(series: pd.Series) -> bool:
    """An object column of time stamps (and gaps), as scenario tables carry."""
    if series.dtype != object:
        return False
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, dt.datetime | np.datetime64) for v in values)


def _iso(stamps: pd.DatetimeIndex) -> pd.Index:
    valid = stamps[~stamps.isna()]
    daily = stamps.tz is None and bool((valid == valid.normalize()).all())
    return pd.Index([None if pd.isna(t) else (t.date().isoformat() if daily else t.isoformat()) for t in stamps],
                    dtype=object)  # fmt: skip
