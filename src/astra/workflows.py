"""End-to-end jobs shared by the CLI, the report and the dashboard.

Each workflow takes plain values, calls the core modules and returns a frozen
result with ``to_dict()``; interfaces only parse inputs and render results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra._io import atomic_path, ensure_writable_dir
from astra.book import Book, load_book
from astra.data import PriceData, RateSeries, calendar, load_prices, load_rates, returns
from astra.data.providers.sample import MARKET_TICKER
from astra.errors import InputError
from astra.funding import MODELS, CarryResult, MarginResult, PeriodCarry, accrue, carry, margin

__all__ = [
    "DemoResult",
    "FundingReport",
    "cumulative_returns",
    "funding_report",
    "resolve_rate",
    "run_demo",
    "seed_comparison",
    "write_frame",
]

SAMPLE_BOOK = Path(__file__).parent / "examples" / "book.toml"
DEMO_RATE = 0.043

DEMO_TICKERS = ("AAPL", "MSFT", "AMD", "JPM", "BAC", "XOM", "CVX", "JNJ", "PG", "WMT")


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


# ---------------------------------------------------------------------- funding
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
    series = load_rates(source, lo, end, offline=offline)
    return series, f"{series.source} ({series.convention})"


def _usd(value: float, digits: int = 2) -> str:
    """``-$1,234.50`` rather than ``$-1,234.50``."""
    return f"-${-value:,.{digits}f}" if value < 0 else f"${value:,.{digits}f}"


def _last_session(day=None) -> pd.Timestamp:
    day = pd.Timestamp(day or pd.Timestamp.today()).normalize()
    return day if calendar.is_session(day) else calendar.previous_session(day)


def seed_comparison(book: Book, rate: float, *, on=None) -> dict[str, Any]:
    """Carry of ``book`` under every convention, and why the notebook's differs."""
    by_model = {name: carry(book, rate, model=name, on=on) for name in MODELS}
    seed, cash = by_model["seed"], by_model["cash"]
    debit = max(0.0, book.long_market_value - book.equity)
    sentence = (
        f"The notebook charged the benchmark plus spread on the whole long notional "
        f"(${book.long_market_value:,.0f}) and paid nothing on the client's own cash, although that cash funds "
        f"all but ${debit:,.0f} of it: its carry is {_usd(seed.daily_carry)} a day against "
        f"{_usd(cash.daily_carry)} under the cash prime-brokerage convention."
    )
    return {
        "daily_carry": {name: result.daily_carry for name, result in by_model.items()},
        "components": {name: result.components for name, result in by_model.items()},
        "difference": seed.daily_carry - cash.daily_carry,
        "explanation": sentence,
    }


@dataclass(frozen=True)
class FundingReport:
    """Carry (one day, optionally a period), margin and the convention comparison of one book."""

    book: Book
    carry: CarryResult
    margin: MarginResult
    rate_source: str
    period: PeriodCarry | None = None
    comparison: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "book": self.book.name,
            **self.carry.to_dict(),
            "rate_source": self.rate_source,
            "margin": self.margin.to_dict(),
            "period": None if self.period is None else self.period.to_dict(),
            "by_model": self.comparison,
            "notes": list(self.book.notes),
        }


def funding_report(
    book: Book,
    *,
    rate: float | None = None,
    rate_source: str | None = None,
    model: str | None = None,
    on=None,
    start=None,
    end=None,
    compounded: bool = False,
    regime: str | None = None,
    offline: bool = False,
) -> FundingReport:
    """Carry, margin and the seed comparison of ``book``; a period when ``start``/``end`` are given.

    The accrual day defaults to the last XNYS business day on or before today.
    """
    if (start is None) != (end is None):
        raise InputError("a period needs both --from and --to")
    if start is not None and on is not None:
        raise InputError("give either --date or --from/--to, not both")
    if model is not None and model not in MODELS:
        raise InputError(f"--model {model!r} is not one of {', '.join(MODELS)}")
    if compounded and start is None:
        raise InputError("--compounded applies to a period; add --from and --to")
    day = _last_session(start if start is not None else on)
    if on is not None and not calendar.is_session(pd.Timestamp(on)):
        day = pd.Timestamp(on)  # carry() explains why it is not a business day
    benchmark, described = resolve_rate(rate, rate_source, start or day, end or day, offline=offline)
    fixing = benchmark.on(day) if isinstance(benchmark, RateSeries) else benchmark
    one_day = carry(book, fixing, model=model, on=day)
    period = None
    if start is not None:
        period = accrue(book, benchmark, start, end, model=model, compounded=compounded)
    return FundingReport(
        book=book,
        carry=one_day,
        margin=margin(book, regime=regime),
        rate_source=described,
        period=period,
        comparison=seed_comparison(book, fixing, on=day),
    )


@dataclass(frozen=True)
class DemoResult:
    """What ``astra demo`` produced."""

    data: PriceData
    cumulative: pd.DataFrame
    files: tuple[str, ...]
    sections: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cum = self.cumulative.replace({np.nan: None})
        return {
            "source": self.data.meta.source,
            "tickers": self.data.tickers,
            "start": self.data.prices.index[0].date().isoformat(),
            "end": self.data.prices.index[-1].date().isoformat(),
            "quality": None if self.data.quality is None else self.data.quality.to_dict(),
            "cumulative_returns": {t: cum.loc[t].to_dict() for t in cum.index},
            "files": list(self.files),
            **self.sections,
        }


def run_demo(out_dir: str | Path = "astra-out", *, tickers=DEMO_TICKERS, start="2015-01-01") -> DemoResult:
    """The whole pipeline on the offline sample; writes exports into ``out_dir``.

    Nothing touches the network. Files are written atomically, each one whole
    or not at all.
    """
    out = ensure_writable_dir(Path(out_dir), what="output directory")
    data = load_prices([*tickers, MARKET_TICKER], "sample", start=start)
    daily = returns(data.prices)
    cumulative = cumulative_returns(data.prices)
    files = [
        write_frame(data.prices, out / "prices.parquet"),
        write_frame(daily, out / "returns.csv"),
    ]
    book = load_book(SAMPLE_BOOK, source="sample")
    report = funding_report(book, rate=DEMO_RATE, on=data.prices.index[-1])
    positions = report.carry.to_frame().join(report.margin.to_frame())
    files.append(write_frame(positions, out / "book_funding.csv"))
    sections = {"funding": {**report.to_dict(), "text": _funding_text(report)}}
    return DemoResult(data=data, cumulative=cumulative, files=tuple(str(f) for f in files), sections=sections)


def _funding_text(report: FundingReport) -> str:
    book, c, m = report.book, report.carry, report.margin
    lines = [
        f"Client book {book.name!r}: long ${book.long_market_value:,.0f}, short ${book.short_market_value:,.0f}, "
        f"gross ${book.gross:,.0f}, net ${book.net:,.0f}, leverage {book.leverage:.2f}x on ${book.equity:,.0f} equity",
        f"Carry on {c.day.date()} ({c.model}, benchmark {report.rate_source}, {c.accrual_days} day(s) accrued): "
        f"{_usd(c.daily_carry)} = "
        + ", ".join(f"{name.replace('_', ' ')} {_usd(value)}" for name, value in c.components.items()),
        f"Margin ({m.regime}): requirement ${m.requirement:,.0f}, excess ${m.excess:,.0f}, call ${m.call:,.0f}; "
        f"Reg T ${m.reg_t_initial:,.0f}, FINRA ${m.finra_maintenance:,.0f}, portfolio ${m.portfolio_margin:,.0f}",
        report.comparison["explanation"],
    ]
    return "\n".join(lines)
