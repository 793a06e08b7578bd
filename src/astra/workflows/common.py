"""Decisions every workflow shares: dates, the benchmark rate, exports.

Interfaces never make these decisions themselves; they pass what the user typed
and render what comes back, so the CLI, the dashboard, the report and Python give
the same figure for the same question.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from astra._io import atomic_path, output_dir
from astra.data import RateSeries, calendar, load_rates
from astra.errors import DataUnavailable, InputError
from astra.format import export_frame

__all__ = [
    "DEFAULT_BENCHMARK_RATE",
    "cumulative_returns",
    "expand_paths",
    "last_session",
    "parse_date",
    "resolve_rate",
    "usd",
    "write_exports",
    "write_frame",
]

#: The benchmark rate used when none is given: a flat 4.30 % (decimal, ACT/360), offline.
#: ``--rate`` or ``--rate-source irx|csv:PATH|synthetic`` replace it; the output always names it.
DEFAULT_BENCHMARK_RATE = 0.043


def parse_date(value, name: str) -> pd.Timestamp | None:
    """``value`` as a midnight timestamp, or ``None``; an ``InputError`` naming ``name`` otherwise.

    Examples
    --------
    >>> parse_date("2022-12-23", "date")
    Timestamp('2022-12-23 00:00:00')
    >>> parse_date("2022-02-30", "date")
    Traceback (most recent call last):
    ...
    astra.errors.InputError: date '2022-02-30' is not a calendar date (use YYYY-MM-DD)
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise InputError(f"{name} {str(value)!r} is not a calendar date (use YYYY-MM-DD)") from None
    if stamp is pd.NaT:
        raise InputError(f"{name} {str(value)!r} is not a calendar date (use YYYY-MM-DD)")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def date_range(start, end) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Parsed ``start``/``end`` (inclusive), checked to be in order."""
    lo, hi = parse_date(start, "start"), parse_date(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    return lo, hi


def iso(day: pd.Timestamp | None) -> str | None:
    return None if day is None else day.date().isoformat()


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


def write_frame(frame: pd.DataFrame, target: Path, *, abs_tol: float | dict = 0.0) -> Path:
    """Write ``frame`` as CSV or Parquet (by extension), atomically, as every export is written.

    The index is named, numbers within ``abs_tol`` of zero (solver noise) are written as 0,
    and CSV dates are ISO strings (Parquet keeps typed timestamps); see
    :func:`astra.format.export_frame`.
    """
    target = Path(target)
    tidy = export_frame(frame, abs_tol=abs_tol, iso_dates=target.suffix != ".parquet")
    with atomic_path(target) as tmp:
        if target.suffix == ".parquet":
            tidy.to_parquet(tmp)
        else:
            tidy.to_csv(tmp, float_format="%.10g")
    return target


def write_exports(out, frames: Mapping[str, pd.DataFrame], *, force: bool = False, job: str = "output",
                  noise: Mapping[str, float] | None = None) -> tuple[str, ...]:  # fmt: skip
    """Write ``{file name: frame}`` into the directory ``out`` as one transaction; the paths written.

    The set is built aside and swapped in together (:func:`astra._io.output_dir`): on any
    error nothing new is left in ``out``, and a file ASTRA did not write there is never
    replaced unless ``force``. ``noise`` gives a per-file absolute tolerance below which
    numbers are written as 0 (solver noise in weights).
    """
    if out is None or not frames:
        return ()
    noise = noise or {}
    with output_dir(out, force=force, files=list(frames), job=job, what="out") as stage:
        for name, frame in frames.items():
            write_frame(frame, stage / name, abs_tol=noise.get(name, 0.0))
    return tuple(str(Path(out) / name) for name in frames)


def resolve_rate(
    rate: float | None = None,
    rate_source: str | None = None,
    start=None,
    end=None,
    *,
    offline: bool = False,
    unit: str = "percent",
) -> RateSeries:
    """The benchmark rate as a :class:`RateSeries` covering ``start``..``end`` (a flat rate is a series too).

    ``rate`` (decimal) or ``rate_source`` (``irx``, ``flat:R``, ``csv:PATH``, ``synthetic``);
    with neither, :data:`DEFAULT_BENCHMARK_RATE` flat, offline, said so in the series' notes.
    Fixings are looked up from two weeks before ``start`` so a start on a holiday has one.
    ``unit`` is how a CSV quotes its rates (``percent``, as FRED publishes SOFR, or ``decimal``).
    """
    if rate is not None and rate_source is not None:
        raise InputError("give either rate or rate_source, not both")
    lo, hi = date_range(start, end)
    hi = hi or last_session()
    lo = (lo or hi) - pd.Timedelta(days=14)
    if rate_source is None:
        default = rate is None
        value = DEFAULT_BENCHMARK_RATE if default else rate
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"rate {value!r} is not a number; give a decimal, e.g. 0.043")
        series = load_rates(f"flat:{float(value)!r}", lo, hi)
        if default:
            note = f"no benchmark rate given: the default, flat {DEFAULT_BENCHMARK_RATE:.2%} (set rate or rate_source)"
            series = RateSeries(series.rates, source=f"flat:{DEFAULT_BENCHMARK_RATE:g} (default)", notes=(note,))
        return series
    try:
        return load_rates(rate_source, lo, hi, offline=offline, unit=unit)
    except InputError as exc:  # a flat:R source's value is checked as a rate: name the parameter the user gave
        message = str(exc)
        if not message.startswith("rate "):
            raise
        raise InputError(f"rate_source {rate_source!r}: {message.removeprefix('rate ')}") from None
    except DataUnavailable as exc:
        raise DataUnavailable(f"{exc}; to work offline give rate 0.043 (flat) or rate_source csv:PATH") from exc


def describe_rate(series: RateSeries) -> str:
    """One phrase naming the benchmark: ``flat 4.30% (default; ACT/360 money-market yield)``, ``irx (…)``."""
    source, default = series.source.removesuffix(" (default)"), series.source.endswith(" (default)")
    label = f"flat {float(source.removeprefix('flat:')):.2%}" if source.startswith("flat:") else source
    return f"{label} ({'default; ' if default else ''}{series.convention})"


def expand_paths(patterns: Iterable, *, what: str = "book") -> list[Path]:
    """File arguments with shell-style patterns expanded (sorted); a pattern matching nothing is an error."""
    paths: list[Path] = []
    for item in patterns:
        text = str(item)
        if any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text))
            if not matches:
                raise InputError(f"no {what} file matches {text!r}")
            paths.extend(Path(m) for m in matches)
        else:
            paths.append(Path(text))
    if not paths:
        raise InputError(f"no {what} files given")
    return paths


def usd(value: float, digits: int = 2) -> str:
    """``-$1,234.50`` rather than ``$-1,234.50``."""
    return f"-${-value:,.{digits}f}" if value < 0 else f"${value:,.{digits}f}"


def last_session(day=None) -> pd.Timestamp:
    """The XNYS business day on or before ``day`` (default today)."""
    day = pd.Timestamp(day or pd.Timestamp.today()).normalize()
    return day if calendar.is_session(day) else calendar.previous_session(day)
