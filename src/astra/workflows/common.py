"""Helpers shared by the workflows: exports, the benchmark rate, dates, money formatting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from astra._io import atomic_path
from astra.data import RateSeries, calendar, load_rates
from astra.errors import DataUnavailable, InputError

__all__ = ["cumulative_returns", "resolve_rate", "usd", "write_frame"]


def cumulative_returns(prices: pd.DataFrame, horizons: dict[str, int] | None = None) -> pd.DataFrame:
    """Buy-and-hold return of each column over trailing windows of sessions.

    ``(p_T / p_{T−h}) − 1`` using the last valid price at or before each end.
    """
    horizons = horizons or {"1m": 21, "1y": 252, "5y": 1260, "all": len(prices) - 1}
    last = prices.ffill().iloc[-1]
    rows = {}
    for label, h in horizons.items():
        if h <= 0 or h >= len(prices):
            continue
        base = prices.iloc[: len(prices) - h].ffill().iloc[-1]
        rows[label] = last / base - 1.0
    return pd.DataFrame(rows)


def write_frame(frame: pd.DataFrame, target: Path) -> Path:
    """Write ``frame`` as CSV or Parquet (by extension), atomically."""
    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix == ".parquet":
            frame.to_parquet(tmp)
        else:
            frame.to_csv(tmp, float_format="%.10g")
    return target


def resolve_rate(
    rate: float | None = None, rate_source: str | None = None, start=None, end=None, *, offline: bool = False
) -> tuple[float | RateSeries, str]:
    """The benchmark: a flat decimal ``rate`` or a series from ``rate_source`` (default ``irx``)."""
    if rate is not None and rate_source is not None:
        raise InputError("give either --rate or --rate-source, not both")
    if rate is not None:
        return rate, f"flat {rate:.4%}"
    source = rate_source or "irx"
    lo = None if start is None else (pd.Timestamp(start) - pd.Timedelta(days=14)).date().isoformat()
    try:
        series = load_rates(source, lo, end, offline=offline)
    except DataUnavailable as exc:
        if rate_source is not None:
            raise
        raise DataUnavailable(f"{exc}; to work offline give --rate 0.043 (flat) or --rate-source csv:PATH") from exc
    return series, f"{series.source} ({series.convention})"


def usd(value: float, digits: int = 2) -> str:
    """``-$1,234.50`` rather than ``$-1,234.50``."""
    return f"-${-value:,.{digits}f}" if value < 0 else f"${value:,.{digits}f}"


def last_session(day=None) -> pd.Timestamp:
    day = pd.Timestamp(day or pd.Timestamp.today()).normalize()
    return day if calendar.is_session(day) else calendar.previous_session(day)
