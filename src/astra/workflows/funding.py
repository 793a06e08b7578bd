"""The funding workflow: carry, margin, a period and the convention comparison of one book."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from astra.book import Book
from astra.data import RateSeries, calendar
from astra.errors import InputError
from astra.funding import MODELS, CarryResult, MarginResult, PeriodCarry, accrue, carry, margin
from astra.workflows.common import last_session, resolve_rate, usd

__all__ = ["FundingReport", "funding_report", "funding_text", "seed_comparison"]


def seed_comparison(book: Book, rate: float, *, on=None) -> dict[str, Any]:
    """Carry of ``book`` under every convention, and why the notebook's differs."""
    by_model = {name: carry(book, rate, model=name, on=on) for name in MODELS}
    seed, cash = by_model["seed"], by_model["cash"]
    debit = max(0.0, book.long_market_value - book.equity)
    sentence = (
        f"The notebook charged the benchmark plus spread on the whole long notional "
        f"(${book.long_market_value:,.0f}) and paid nothing on the client's own cash, although that cash funds "
        f"all but ${debit:,.0f} of it: its carry is {usd(seed.daily_carry)} a day against "
        f"{usd(cash.daily_carry)} under the cash prime-brokerage convention."
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
    compare: bool = True,
) -> FundingReport:
    """Carry, margin and the seed comparison of ``book``; a period when ``start``/``end`` are given.

    The accrual day defaults to the last XNYS business day on or before today. ``compare``
    adds the carry under every convention and the notebook comparison (four more carry runs;
    batch jobs over many books turn it off).
    """
    if (start is None) != (end is None):
        raise InputError("a period needs both --from and --to")
    if start is not None and on is not None:
        raise InputError("give either --date or --from/--to, not both")
    if model is not None and model not in MODELS:
        raise InputError(f"--model {model!r} is not one of {', '.join(MODELS)}")
    if compounded and start is None:
        raise InputError("--compounded applies to a period; add --from and --to")
    day = last_session(start if start is not None else on)
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
        comparison=seed_comparison(book, fixing, on=day) if compare else {},
    )


def funding_text(report: FundingReport) -> str:
    book, c, m = report.book, report.carry, report.margin
    lines = [
        f"Client book {book.name!r}: long ${book.long_market_value:,.0f}, short ${book.short_market_value:,.0f}, "
        f"gross ${book.gross:,.0f}, net ${book.net:,.0f}, leverage {book.leverage:.2f}x on ${book.equity:,.0f} equity",
        f"Carry on {c.day.date()} ({c.model}, benchmark {report.rate_source}, {c.accrual_days} day(s) accrued): "
        f"{usd(c.daily_carry)} = "
        + ", ".join(f"{name.replace('_', ' ')} {usd(value)}" for name, value in c.components.items()),
        f"Margin ({m.regime}): requirement ${m.requirement:,.0f}, excess ${m.excess:,.0f}, call ${m.call:,.0f}; "
        f"Reg T ${m.reg_t_initial:,.0f}, FINRA ${m.finra_maintenance:,.0f}, portfolio ${m.portfolio_margin:,.0f}",
        report.comparison["explanation"],
    ]
    return "\n".join(lines)
