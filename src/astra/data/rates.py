"""Funding benchmark rates, always as an ACT/360 money-market yield (decimal).

* ``irx``: Yahoo's ``^IRX`` is the 13-week T-bill *discount* rate ``d``; it is
  converted to the money-market yield ``r = 360·d / (360 − 91·d)`` before use.
* ``flat:R``: a constant decimal rate (``flat:0.043``).
* ``csv:PATH``: a date + rate series such as SOFR from FRED (percent by default,
  ``.`` or blank for missing days).
* ``synthetic``: a seeded Vasicek path, labelled synthetic.

Every series is aligned to XNYS sessions (forward-filled, never back-filled)
and checked against a plausible range (−5 % to 50 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra.data import calendar
from astra.errors import DataUnavailable, InputError

__all__ = [
    "RATE_BOUNDS",
    "RateSeries",
    "discount_to_money_market",
    "flat_rate",
    "parse_rate_source",
    "rate_from_csv",
    "rate_from_discount",
    "synthetic_rate",
]

RATE_BOUNDS = (-0.05, 0.50)
_FILL_LIMIT = 5


@dataclass(frozen=True)
class RateSeries:
    """A daily benchmark rate (decimal, ACT/360 money-market yield) on XNYS sessions."""

    rates: pd.Series
    source: str
    convention: str = "ACT/360 money-market yield"
    filled: int = 0
    synthetic: bool = False
    notes: tuple[str, ...] = ()

    @property
    def last(self) -> float:
        return float(self.rates.iloc[-1])

    def on(self, day) -> float:
        """The rate in force on ``day`` (the latest fixing at or before it)."""
        stamp = pd.Timestamp(day).normalize()
        known = self.rates.loc[:stamp]
        if known.empty:
            raise DataUnavailable(f"{self.source}: no rate on or before {stamp.date()}")
        return float(known.iloc[-1])

    def to_frame(self) -> pd.DataFrame:
        return self.rates.rename("rate").to_frame()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "convention": self.convention,
            "synthetic": self.synthetic,
            "filled": self.filled,
            "last": self.last,
            "index": [d.date().isoformat() for d in self.rates.index],
            "rate": [float(v) for v in self.rates.to_numpy()],
            "notes": list(self.notes),
        }


def discount_to_money_market(discount, days: int = 91):
    """Convert a T-bill discount rate to a money-market (ACT/360) yield.

    ``r = 360·d / (360 − days·d)`` (price ``P = 1 − d·days/360`` and
    ``r = (1/P − 1)·360/days``).

    Examples
    --------
    >>> round(discount_to_money_market(0.05), 8)
    0.05064003
    """
    d = np.asarray(discount, dtype="float64")
    if np.any(days * d >= 360):
        raise InputError(f"discount rate {float(np.max(d))!r} is impossible for a {days}-day bill")
    out = 360.0 * d / (360.0 - days * d)
    return float(out) if np.ndim(out) == 0 else out


def _check_bounds(series: pd.Series, source: str) -> None:
    lo, hi = RATE_BOUNDS
    bad = series[(series < lo) | (series > hi)]
    if len(bad):
        day, value = bad.index[0], float(bad.iloc[0])
        raise InputError(
            f"{source}: rate {value:.6g} on {pd.Timestamp(day).date()} is outside the plausible range "
            f"[{lo:.0%}, {hi:.0%}] (decimal); is it in percent or bp?"
        )


def _align(series: pd.Series, source: str, start=None, end=None, **kw) -> RateSeries:
    series = series.dropna().sort_index()
    if series.empty:
        raise DataUnavailable(f"{source}: no rate observations")
    _check_bounds(series, source)
    lo = series.index[0] if start is None else pd.Timestamp(start)
    hi = series.index[-1] if end is None else pd.Timestamp(end)
    days = calendar.sessions(lo, hi)
    if len(days) == 0:
        raise DataUnavailable(f"{source}: no trading days between {lo.date()} and {hi.date()}")
    # Carry the last fixing at or before the start into the window (past data only).
    union = series.index.union(days)
    full = series.reindex(union).ffill(limit=_FILL_LIMIT)
    aligned = full.reindex(days)
    filled = int(aligned.notna().sum() - series.index.isin(days).sum())
    if aligned.isna().all():
        raise DataUnavailable(f"{source}: no rate between {lo.date()} and {hi.date()}")
    leading = int(np.argmax(aligned.notna().to_numpy()))
    aligned = aligned.iloc[leading:].rename("rate")
    aligned.index.name = "date"
    return RateSeries(aligned, source=source, filled=max(filled, 0), **kw)


def flat_rate(rate: float, start, end) -> RateSeries:
    """A constant rate (decimal) on every session in ``[start, end]``."""
    value = float(rate)
    lo, hi = RATE_BOUNDS
    if not np.isfinite(value) or not lo <= value <= hi:
        raise InputError(
            f"rate {rate!r} is outside the plausible range [{lo:.0%}, {hi:.0%}]; give a decimal, e.g. 0.043"
        )
    days = calendar.sessions(start, end)
    if len(days) == 0:
        raise DataUnavailable(f"no trading days between {start} and {end}")
    return RateSeries(pd.Series(value, index=days, name="rate"), source=f"flat:{value:g}")


def rate_from_discount(discount: pd.Series, start=None, end=None, *, source: str = "irx") -> RateSeries:
    """A 13-week discount-rate series (decimal) → money-market yield on sessions."""
    if discount.empty or discount.isna().all():
        raise DataUnavailable(f"{source}: the discount-rate series is empty")
    index = pd.DatetimeIndex(discount.index)
    index = index.tz_localize(None) if index.tz is not None else index
    clean = pd.Series(discount.to_numpy(dtype="float64"), index=index.normalize()).dropna()
    clean = clean[~clean.index.duplicated(keep="last")]
    _check_bounds(clean, f"{source} (discount)")
    mmy = pd.Series(discount_to_money_market(clean.to_numpy()), index=clean.index)
    return _align(mmy, source, start, end, notes=("13-week T-bill discount rate converted: r = 360·d/(360 − 91·d)",))


def rate_from_csv(path, start=None, end=None, *, unit: str = "percent", quote: str = "yield") -> RateSeries:
    """A rate series from a CSV file: a date column and one rate column.

    Parameters
    ----------
    unit : {"percent", "decimal"}
        FRED and the NY Fed publish SOFR in percent (``5.31``), the default.
    quote : {"yield", "discount"}
        ``discount`` converts a 13-week discount rate to money-market yield.
    """
    path = Path(path).expanduser()
    if unit not in ("percent", "decimal"):
        raise InputError(f"rate unit {unit!r}: use percent or decimal")
    if quote not in ("yield", "discount"):
        raise InputError(f"rate quote {quote!r}: use yield or discount")
    if not path.is_file():
        raise InputError(f"rate file not found: {str(path)!r}")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from exc
    if raw.shape[1] < 2 or raw.empty:
        raise InputError(f"{path}: expected two columns (date, rate) and at least one row")
    date_col, rate_col = raw.columns[0], raw.columns[1]
    dates = pd.to_datetime(raw[date_col].str.strip(), errors="coerce", format="mixed")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError(f"{path}: line {i + 2}: {raw[date_col].iloc[i]!r} is not a date")
    text = raw[rate_col].str.strip()
    blank = text.isin(["", ".", "NA", "NaN", "nan"])
    values = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = values.isna() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{path}: line {i + 2}, column {rate_col!r}: {text.iloc[i]!r} is not a number")
    if pd.Index(dates).duplicated().any():
        i = int(np.flatnonzero(pd.Index(dates).duplicated())[0])
        raise InputError(f"{path}: line {i + 2}: duplicate date {dates.iloc[i].date()}")
    series = pd.Series(values.to_numpy(dtype="float64"), index=pd.DatetimeIndex(dates))
    if unit == "percent":
        series = series / 100.0
    source = f"csv:{path}"
    if quote == "discount":
        return rate_from_discount(series, start, end, source=source)
    return _align(series, source, start, end)


def synthetic_rate(
    start, end, *, r0: float = 0.043, mean: float = 0.035, speed: float = 0.5, vol: float = 0.01, seed=0
) -> RateSeries:
    """A seeded Vasicek path ``dr = speed·(mean − r)dt + vol·dW`` on sessions (dt = 1/252)."""
    days = calendar.sessions(start, end)
    rng = np.random.default_rng(seed)
    dt = 1.0 / 252.0
    shocks = rng.standard_normal(len(days))
    path = np.empty(len(days))
    r = float(r0)
    for i, z in enumerate(shocks):
        path[i] = r
        r = r + speed * (mean - r) * dt + vol * np.sqrt(dt) * z
    path = np.clip(path, RATE_BOUNDS[0], RATE_BOUNDS[1])
    return RateSeries(
        pd.Series(path, index=days, name="rate"),
        source=f"synthetic:vasicek(seed={seed})",
        synthetic=True,
        notes=("synthetic Vasicek path: not market data",),
    )


def parse_rate_source(text: str) -> tuple[str, Any]:
    """Parse ``irx``, ``flat:R``, ``csv:PATH`` or ``synthetic``."""
    kind, _, rest = str(text).partition(":")
    kind = kind.strip().lower()
    if kind == "irx" and not rest:
        return "irx", None
    if kind == "synthetic" and not rest:
        return "synthetic", None
    if kind == "flat":
        try:
            return "flat", float(rest)
        except ValueError as exc:
            raise InputError(f"rate source {text!r}: flat needs a decimal rate, e.g. flat:0.043") from exc
    if kind == "csv" and rest:
        return "csv", Path(rest).expanduser()
    raise InputError(f"rate source {text!r}: use irx, flat:R (decimal), csv:PATH or synthetic")
