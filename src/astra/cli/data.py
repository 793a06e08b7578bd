"""``astra data show|fetch|rates``: prices with their quality report, and the benchmark rate."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from astra.cli._app import data_app
from astra.cli._common import (
    EndOpt,
    IntervalOpt,
    JsonOpt,
    OfflineOpt,
    RateOpt,
    RateSourceOpt,
    SourceOpt,
    StartOpt,
    line,
    note,
    notes,
    run,
    table,
)
from astra.workflows.data import benchmark_rates, price_data

TickersArg = Annotated[list[str] | None, typer.Argument(help="Tickers (default: all the source has).")]


def _render_prices(data, rows: int = 8) -> None:
    shown = data.prices.tail(rows)
    stamp = (lambda s: s.isoformat()) if data.meta.interval != "1d" else (lambda s: s.date().isoformat())
    body = ([stamp(ts), *("" if math.isnan(v) else f"{v:,.2f}" for v in row)] for ts, row in shown.iterrows())
    table(f"{data.meta.source}: last {len(shown)} of {len(data.prices)} rows", [shown.index.name or "date",
          *data.tickers], body)  # fmt: skip
    if data.quality is not None:
        line(f"data quality: {data.quality.summary()}")
    notes(data.meta.notes)


@data_app.command("show")
def data_show(
    tickers: TickersArg = None,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cleaned close prices and the data-quality report."""
    run(lambda: price_data(tickers or (), source=source, start=start, end=end, interval=interval, offline=offline),
        _render_prices, as_json)  # fmt: skip


@data_app.command("fetch")
def data_fetch(
    tickers: Annotated[list[str], typer.Argument(help="Tickers to download.")],
    source: SourceOpt = "yahoo",
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Download prices into the cache (read back later with --offline)."""

    def render(data) -> None:
        _render_prices(data)
        if data.meta.source == "yahoo" and not offline:
            from astra.data.store import default_cache_dir

            note(f"cached under {default_cache_dir()}; repeat with --offline to read it back")

    run(lambda: price_data(tickers, source=source, start=start, end=end, interval=interval, offline=offline),
        render, as_json)  # fmt: skip


@data_app.command("rates")
def data_rates(
    rate: RateOpt = None,
    rate_source: RateSourceOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    unit: Annotated[str, typer.Option("--unit", help="How a CSV quotes rates: percent | decimal")] = "percent",
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The funding benchmark as a money-market yield (decimal, ACT/360), as funding uses it.

    Without --rate or --rate-source: the default flat 4.30 %, offline.
    """

    def render(series) -> None:
        tail = series.rates.tail(8)
        table(f"{series.source}: {series.convention}", ["date", "rate"],
              ([day.date().isoformat(), f"{value:.4%}"] for day, value in tail.items()))  # fmt: skip
        line(f"{len(series.rates)} sessions, last {series.last:.4%}, {series.filled} forward-filled")
        notes(series.notes)

    run(lambda: benchmark_rates(rate, rate_source, start=start, end=end, unit=unit, offline=offline), render,
        as_json)  # fmt: skip
