"""``astra book show`` and ``astra funding``: a book's exposures, its carry, margin and a period."""

from __future__ import annotations

from typing import Annotated

import typer

from astra.cli._app import app, book_app
from astra.cli._common import (
    BookArg,
    BooksArg,
    ClusterOpt,
    DateOpt,
    EndOpt,
    EquityOpt,
    ForceOpt,
    JsonOpt,
    ModelOpt,
    OfflineOpt,
    OutOpt,
    RateOpt,
    RateSourceOpt,
    SourceOpt,
    line,
    money,
    note,
    notes,
    pct,
    render_many,
    run,
    shares,
    table,
)


@book_app.command("show")
def book_show(
    book: BookArg,
    equity: EquityOpt = None,
    source: SourceOpt = "sample",
    date: DateOpt = None,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Positions with marks, market values and weights; long, short, gross, net, leverage."""
    from astra.workflows.book import show_book

    def render(result) -> None:
        rows = (
            [t, shares(r.quantity), money(r.price), money(r.market_value), pct(r.weight)]
            for t, r in result.to_frame().iterrows()
        )
        table(f"{result.name}: equity {money(result.equity)}", ["ticker", "shares", "price", "market value",
              "weight of gross"], rows)  # fmt: skip
        line(f"long {money(result.long_market_value)}  short {money(result.short_market_value)}  "
             f"gross {money(result.gross)}  net {money(result.net)}  leverage {result.leverage:.2f}x")  # fmt: skip
        line(f"marks: {result.marks}")
        notes(result.notes)

    run(lambda: show_book(book, source=source, on=date, equity=equity, offline=offline), render, as_json)


def _render_funding(report) -> None:
    c, m = report.carry, report.margin
    rows = (
        [t, money(r.market_value), money(r.financing), money(r.rebate), money(r.borrow_fee), money(r.carry)]
        for t, r in c.positions.iterrows()
    )
    table(f"{report.book.name}: carry on {c.day.date()} ({c.model}, {c.accrual_days} day(s) accrued), USD",
          ["ticker", "market value", "financing", "rebate", "borrow fee", "carry"], rows)  # fmt: skip
    parts = ", ".join(f"{k.replace('_', ' ')} {money(v)}" for k, v in c.components.items())
    line(f"marks: {report.marks}")
    line(f"benchmark {report.benchmark_rate_source}: {c.benchmark_rate:.4%}")
    line(f"daily carry {money(c.daily_carry)} ({parts}); {c.annual_rate_on_gross:+.3%} a year on gross")
    if c.negative_rebates:
        line(f"negative net rebate (fee above benchmark minus spread): {', '.join(c.negative_rebates)}")
    line(f"margin call measured against {m.regime}: requirement {money(m.requirement)}, equity {money(m.equity)}, "
         f"excess {money(m.excess)}, call {money(m.call)}")  # fmt: skip
    line(f"Reg T initial {money(m.reg_t_initial)} (buying power {money(m.buying_power)}); FINRA maintenance "
         f"{money(m.finra_maintenance)}; portfolio margin {money(m.portfolio_margin)}")  # fmt: skip
    if report.period is not None:
        p = report.period
        how = "compounded in arrears" if p.compounded else "simple"
        line(f"period {p.start.date()} to {p.end.date()} ({len(p.daily)} business days, "
             f"{int(p.daily['accrual_days'].sum())} nights, {how}): {money(p.total)}")  # fmt: skip
        line(f"period marks: {p.marks}")
    line(report.comparison["explanation"])
    notes([*report.book.notes, *report.benchmark.notes])
    if report.files:
        note(", ".join(report.files), label="wrote")


@app.command()
def funding(
    books: BooksArg,
    rate: RateOpt = None,
    rate_source: RateSourceOpt = None,
    model: ModelOpt = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Accrual day (a business day): carry at that day's closes. Default: the latest close the source has.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="Period start, YYYY-MM-DD. The period accrues each night from --start up to, "
            "not including, the business day after --end.",
        ),
    ] = None,
    end: EndOpt = None,
    compounded: Annotated[bool, typer.Option("--compounded", help="Compound the period in arrears.")] = False,
    hold_marks: Annotated[
        bool, typer.Option("--hold-marks", help="Hold the first day's marks for the period (default: re-mark daily).")
    ] = False,
    regime: Annotated[
        str | None,
        typer.Option(
            "--margin",
            help="Measure the call against reg_t | finra | portfolio (default: the account's maintenance requirement).",
        ),
    ] = None,
    equity: EquityOpt = None,
    source: SourceOpt = "sample",
    offline: OfflineOpt = False,
    cluster: ClusterOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Daily carry by component and position, margin, and a period accrual (USD, + = client receives).

    Without --rate or --rate-source the benchmark is a flat 4.30 %, offline, and the output
    says so. Several books (or a pattern, or --cluster) give one row per book and totals by
    account group.
    """
    options = {"rate": rate, "rate_source": rate_source, "model": model, "on": date, "regime": regime,
               "source": source, "equity": equity, "offline": offline}  # fmt: skip
    if len(books) > 1 or cluster is not None or any(ch in books[0] for ch in "*?["):

        def many():
            from astra.parallel import runner
            from astra.workflows.scale import funding_many

            if start is not None or end is not None:
                from astra.errors import InputError

                raise InputError("a period (--start/--end) is for one book; give --date for many books")
            with runner(cluster) as pool:
                return funding_many(books, pool, out=out, force=force, **options)

        run(many, render_many, as_json)
        return

    from astra.workflows.funding import funding_report

    run(lambda: funding_report(books[0], start=start, end=end, compounded=compounded, hold_marks=hold_marks,
                               out=out, force=force, **options), _render_funding, as_json)  # fmt: skip
