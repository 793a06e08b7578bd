"""The funding workflow: carry, margin, a period and the convention comparison of one book."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from astra.book import Book
from astra.data import RateSeries, calendar
from astra.errors import InputError
from astra.funding import MODELS, CarryResult, MarginResult, PeriodCarry, accrue, carry, margin
from astra.workflows.book import BookInput, OpenBook, marks_panel, open_book
from astra.workflows.common import (
    date_range,
    describe_rate,
    last_session,
    parse_date,
    resolve_rate,
    usd,
    write_exports,
)

__all__ = [
    "ACCOUNT",
    "TOTAL",
    "FundingReport",
    "book_funding_frame",
    "funding_report",
    "funding_text",
    "seed_comparison",
]

TOTAL, ACCOUNT = "TOTAL", "account cash"  # the total row and the account-level cash row of book_funding.csv


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
    """Carry (one day, optionally a period), margin and the convention comparison of one book.

    ``carry`` and ``margin`` use the book marked on the accrual day (``marks`` says
    which closes); a period re-marks each business day (``period.marks``).
    """

    book: Book
    carry: CarryResult
    margin: MarginResult
    benchmark: RateSeries
    marks: str
    period: PeriodCarry | None = None
    comparison: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    @property
    def benchmark_rate_source(self) -> str:
        return describe_rate(self.benchmark)

    def to_frame(self) -> pd.DataFrame:
        return self.carry.to_frame()

    def exports(self) -> dict[str, pd.DataFrame]:
        """The tables a desk keeps: carry by position (with totals), the period's days, margin."""
        frames = {"book_funding.csv": book_funding_frame(self)}
        if self.period is not None:
            frames["carry_period.csv"] = self.period.to_frame()
        return frames

    def to_dict(self) -> dict[str, Any]:
        return {
            "book": self.book.name,
            **self.carry.to_dict(),
            "benchmark_rate_source": self.benchmark_rate_source,
            "marks": self.marks,
            "margin": self.margin.to_dict(),
            "period": None if self.period is None else self.period.to_dict(),
            "by_model": self.comparison,
            "notes": [*self.book.notes, *self.benchmark.notes],
            "files": list(self.files),
        }


def book_funding_frame(report: FundingReport) -> pd.DataFrame:
    """One row per position, the account's cash line, and a ``TOTAL`` row: what ``book_funding.csv`` holds.

    Columns: ``date`` (ISO), ``model``, ``benchmark_rate`` (decimal), ``accrual_days``, then
    ``quantity`` (shares), ``price``, ``market_value`` (USD), ``weight`` (of gross, signed),
    the day's carry by component (USD, + = client receives: ``financing``,
    ``credit_interest``, ``rebate``, ``borrow_fee``, ``carry``) and the margin requirement
    under each regime (``reg_t``, ``finra``, ``portfolio``, USD). Interest on the account's
    own free cash belongs to no position: it is the ``account cash`` row (shown only when
    non-zero). The ``TOTAL`` row sums every money column, so its ``carry`` is the book's
    daily carry and its margin columns are the account's requirements; quantity and price
    are left empty there (a sum of shares or prices means nothing).
    """
    c, m, book = report.carry, report.margin, report.book
    positions = c.to_frame().join(m.to_frame())
    positions.insert(3, "weight", book.to_frame()["weight"].reindex(positions.index).to_numpy())
    positions.insert(positions.columns.get_loc("rebate"), "credit_interest", 0.0)
    rows = [positions]
    credit = float(c.components.get("credit_interest", 0.0))
    if credit != 0.0:
        rows.append(pd.DataFrame({"credit_interest": [credit], "carry": [credit]}, index=[ACCOUNT]))
    frame = pd.concat(rows)
    money = ["market_value", "weight", "financing", "credit_interest", "rebate", "borrow_fee", "carry", "reg_t",
             "finra", "portfolio"]  # fmt: skip
    total = frame[money].sum(min_count=1).to_frame(TOTAL).T
    frame = pd.concat([frame, total])
    frame.index.name = "ticker"
    frame.insert(0, "accrual_days", c.accrual_days)
    frame.insert(0, "benchmark_rate", c.benchmark_rate)
    frame.insert(0, "model", c.model)
    frame.insert(0, "date", None if c.day is None else c.day.date().isoformat())
    return frame


def _accrual_day(opened: OpenBook, on, start) -> pd.Timestamp:
    """The one-day carry's day: ``on``; the period's first business day; else the latest mark's day."""
    if start is not None:
        first = calendar.sessions(start, start + pd.Timedelta(days=10))
        return first[0] if len(first) else last_session(start)
    if on is not None:
        return on
    return last_session(opened.marks_date)


def funding_report(
    book: BookInput,
    *,
    rate: float | None = None,
    rate_source: str | None = None,
    model: str | None = None,
    on=None,
    start=None,
    end=None,
    compounded: bool = False,
    hold_marks: bool = False,
    regime: str | None = None,
    source: str = "sample",
    equity: float | None = None,
    offline: bool = False,
    compare: bool = True,
    out=None,
    force: bool = False,
) -> FundingReport:
    """Carry, margin and the seed comparison of ``book``; a period when ``start``/``end`` are given.

    Parameters
    ----------
    book
        A book file, :class:`~astra.workflows.book.BookText` or :class:`~astra.Book`.
    rate, rate_source
        The benchmark (decimal, or ``irx``/``flat:R``/``csv:PATH``/``synthetic``);
        default :data:`~astra.workflows.common.DEFAULT_BENCHMARK_RATE`, flat, offline.
    on
        Accrual day (a business day): carry uses the closes of that day. Default: the
        day of the latest close the source has for the book's names.
    start, end
        A period, both inclusive: each business day from ``start`` to ``end`` accrues
        its nights up to the next business day, re-marked at its own close with
        positions and equity held (``hold_marks`` keeps the first day's marks).
    source, equity, offline
        Where unpriced names are marked; account equity for a CSV book.
    compare
        Add the carry under every convention and the notebook comparison (batch
        jobs over many books turn it off).
    out, force
        Directory for ``book_funding.csv`` (carry by position, the day, the benchmark
        rate and totals) and, for a period, ``carry_period.csv``, written as one set; ``force``
        replaces files there that ASTRA did not write.
    """
    on, (start, end) = parse_date(on, "date"), date_range(start, end)
    if (start is None) != (end is None):
        raise InputError("a period needs both start and end")
    if start is not None and on is not None:
        raise InputError("give either an accrual date or a period (start and end), not both")
    if model is not None and model not in MODELS:
        raise InputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    if compounded and start is None:
        raise InputError("compounded applies to a period; give start and end")
    if on is not None and not calendar.is_session(on):
        raise InputError(
            f"date {on.date()} is not an XNYS business day; the next one is {calendar.next_session(on).date()}"
        )
    first = start if start is not None else on
    opened = open_book(book, source=source, on=first, equity=equity, offline=offline)
    day = _accrual_day(opened, on, start)
    benchmark = resolve_rate(rate, rate_source, start or day, end or day, offline=offline)
    fixing = benchmark.on(day)
    marked = opened.book
    one_day = carry(marked, fixing, model=model, on=day)
    period = None
    if start is not None:
        closes, label = (None, "") if hold_marks else marks_panel(opened, start, end)
        if hold_marks or closes is None:
            label = f"{opened.marks}, held for the whole period"
        period = accrue(marked, benchmark, start, end, model=model, compounded=compounded, marks=closes,
                        marks_label=label)  # fmt: skip
    report = FundingReport(
        book=marked,
        carry=one_day,
        margin=margin(marked, regime=regime),
        benchmark=benchmark,
        marks=opened.marks,
        period=period,
        comparison=seed_comparison(marked, fixing, on=day) if compare else {},
    )
    files = write_exports(out, report.exports(), force=force, job="funding")
    return replace(report, files=files) if files else report


def funding_text(report: FundingReport) -> str:
    book, c, m = report.book, report.carry, report.margin
    lines = [
        f"Client book {book.name!r}: long ${book.long_market_value:,.0f}, short ${book.short_market_value:,.0f}, "
        f"gross ${book.gross:,.0f}, net ${book.net:,.0f}, leverage {book.leverage:.2f}x on ${book.equity:,.0f} equity",
        f"Carry on {c.day.date()} ({c.model}, benchmark {report.benchmark_rate_source}, "
        f"{c.accrual_days} day(s) accrued, marks: {report.marks}): "
        f"{usd(c.daily_carry)} = "
        + ", ".join(f"{name.replace('_', ' ')} {usd(value)}" for name, value in c.components.items()),
        f"Margin call measured against {m.regime}: requirement ${m.requirement:,.0f}, excess ${m.excess:,.0f}, "
        f"call ${m.call:,.0f}; Reg T initial ${m.reg_t_initial:,.0f} (buying power ${m.buying_power:,.0f}), "
        f"FINRA ${m.finra_maintenance:,.0f}, portfolio ${m.portfolio_margin:,.0f}",
        report.comparison["explanation"],
    ]
    return "\n".join(lines)
