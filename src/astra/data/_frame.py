"""The one shape every provider returns: a wide price frame plus metadata."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from astra.errors import DataUnavailable, InputError

if TYPE_CHECKING:
    from astra.data.clean import DataQuality

__all__ = ["INTERVALS", "PriceData", "PriceMeta", "check_interval", "check_price_frame"]

INTERVALS = ("1d", "1m")


def check_interval(interval: str) -> str:
    """Return ``interval`` if supported, else ``InputError``."""
    if interval not in INTERVALS:
        raise InputError(f"interval {interval!r} is not supported; use one of {', '.join(INTERVALS)}")
    return interval


@dataclass(frozen=True)
class PriceMeta:
    """Where a price frame came from."""

    source: str
    interval: str = "1d"
    adjusted: bool = True
    timezone: str | None = None
    synthetic: bool = False
    fetched_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "interval": self.interval,
            "adjusted": self.adjusted,
            "timezone": self.timezone,
            "synthetic": self.synthetic,
            "fetched_at": self.fetched_at,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> PriceMeta:
        return cls(
            source=str(payload["source"]),
            interval=str(payload.get("interval", "1d")),
            adjusted=bool(payload.get("adjusted", True)),
            timezone=payload.get("timezone"),
            synthetic=bool(payload.get("synthetic", False)),
            fetched_at=str(payload.get("fetched_at", "")),
            notes=tuple(payload.get("notes", ())),
        )


@dataclass(frozen=True)
class PriceData:
    """Close prices (wide: index = dates or minute stamps, columns = tickers).

    ``quality`` is filled in by :func:`astra.data.clean.clean_prices`.
    """

    prices: pd.DataFrame
    meta: PriceMeta
    quality: DataQuality | None = None

    @property
    def tickers(self) -> list[str]:
        return [str(c) for c in self.prices.columns]

    def to_frame(self) -> pd.DataFrame:
        return self.prices.copy()

    def with_prices(self, prices: pd.DataFrame, **changes: Any) -> PriceData:
        return replace(self, prices=prices, **changes)

    def to_dict(self) -> dict[str, Any]:
        index = self.prices.index
        stamps = [ts.isoformat() if self.meta.interval != "1d" else ts.date().isoformat() for ts in index]
        return {
            "source": self.meta.source,
            "interval": self.meta.interval,
            "tickers": self.tickers,
            "index": stamps,
            "close": {str(c): _json_floats(self.prices[c].to_numpy()) for c in self.prices.columns},
            "quality": None if self.quality is None else self.quality.to_dict(),
            "meta": self.meta.to_dict(),
        }


def _json_floats(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in values.tolist()]


def check_price_frame(frame: pd.DataFrame, *, source: str, interval: str = "1d") -> pd.DataFrame:
    """Validate and normalise a wide price frame; the single gate for providers.

    Index: a sorted, unique DatetimeIndex named ``date`` (tz-naive, daily) or
    ``timestamp`` (tz-aware America/New_York, intraday).  Columns: ticker
    strings, float64.  Non-positive prices are errors (they are never prices).
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise InputError(f"{source}: index is not made of dates/timestamps")
    if frame.shape[1] == 0:
        raise DataUnavailable(f"{source}: no price columns")
    if len(frame.index) == 0:
        raise DataUnavailable(f"{source}: no rows")
    dup = frame.index[frame.index.duplicated()]
    if len(dup):
        raise InputError(f"{source}: duplicate timestamp {dup[0]} ({len(dup)} duplicated rows)")
    dup_cols = frame.columns[frame.columns.duplicated()]
    if len(dup_cols):
        raise InputError(f"{source}: duplicate ticker column {dup_cols[0]!r}")
    out = frame.sort_index()
    out.columns = [str(c).strip().upper() for c in out.columns]
    try:
        out = out.astype("float64")
    except (TypeError, ValueError) as exc:
        raise InputError(f"{source}: non-numeric prices ({exc})") from exc
    values = out.to_numpy()
    bad = np.argwhere(np.isfinite(values) & (values <= 0))
    if len(bad):
        r, c = bad[0]
        raise InputError(
            f"{source}: price {float(values[r, c])!r} for {out.columns[c]} at {out.index[r]} is not positive"
        )
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        raise InputError(f"{source}: infinite price for {out.columns[c]} at {out.index[r]}")
    if interval == "1d":
        index = out.index
        if index.tz is not None:
            index = index.tz_localize(None)
        out.index = pd.DatetimeIndex(index.normalize(), name="date").astype("datetime64[ns]")
        if out.index.has_duplicates:
            first = out.index[out.index.duplicated()][0]
            raise InputError(f"{source}: more than one row for the same date {first.date()}")
    else:
        index = out.index
        index = index.tz_localize("America/New_York") if index.tz is None else index  # naive = exchange time
        out.index = pd.DatetimeIndex(index.tz_convert("America/New_York"), name="timestamp")
    out.columns.name = None
    return out
