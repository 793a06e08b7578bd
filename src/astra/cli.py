"""The ``astra`` command line: parse → workflows → print (rich, or ``--json``).

``--json`` prints ``to_dict()`` of the result and nothing else on stdout;
messages go to stderr. Exit codes: 0 ok, 2 bad input, 3 data unavailable,
4 infeasible or solver failure. An :class:`~astra.errors.AstraError` is shown
as one line, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import astra
from astra.errors import AstraError

__all__ = ["app", "main"]

app = typer.Typer(
    name="astra",
    help="ASTRA: prime-brokerage funding, optimisation, risk and stat-arb.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Prices and benchmark rates.", no_args_is_help=True)
app.add_typer(data_app, name="data")

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

# ------------------------------------------------------------------ options shared by commands
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON (to_dict()) only.")]
SourceOpt = Annotated[str, typer.Option("--source", help="sample | yahoo | synthetic | csv:PATH | parquet:PATH")]
StartOpt = Annotated[str | None, typer.Option("--start", help="First date, YYYY-MM-DD (inclusive).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last date, YYYY-MM-DD (inclusive).")]
IntervalOpt = Annotated[str, typer.Option("--interval", help="1d | 1m")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Never touch the network; use the cache.")]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    if isinstance(value, Path):
        return str(value)
    return value


def emit_json(payload: dict[str, Any]) -> None:
    """Print ``payload`` as strict JSON (NaN → null) on stdout."""
    sys.stdout.write(json.dumps(_jsonable(payload), allow_nan=False) + "\n")


def run(job: Callable[[], Any], render: Callable[[Any], None], as_json: bool) -> None:
    """Run a job; print its result; map AstraError to one stderr line + exit code."""
    try:
        result = job()
    except AstraError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        emit_json(result.to_dict())
    else:
        render(result)


def _pct(value: float) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:+.1%}"


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"astra {astra.__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """ASTRA: Adaptive Statistical Trading & Risk Architecture."""


# ------------------------------------------------------------------ demo
@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("astra-out"),
    as_json: JsonOpt = False,
) -> None:
    """Run the whole pipeline on the offline sample and write exports to --out."""
    from astra import workflows

    def render(result) -> None:
        data = result.data
        _out.rule("[bold]ASTRA demo: offline sample (skfolio S&P 500 sample, real adjusted closes)")
        _out.print(
            f"{data.meta.source}: {len(data.tickers)} series, "
            f"{data.prices.index[0].date()} to {data.prices.index[-1].date()}"
        )
        _out.print(f"data quality: {data.quality.summary()}")
        table = Table(title="Cumulative buy-and-hold returns (to the sample's last day)")
        table.add_column("ticker")
        for col in result.cumulative.columns:
            table.add_column(col, justify="right")
        for ticker, row in result.cumulative.iterrows():
            table.add_row(str(ticker), *(_pct(v) for v in row))
        _out.print(table)
        for section in result.sections.values():
            if isinstance(section, dict) and "text" in section:
                _out.print(section["text"])
        _out.print("wrote: " + ", ".join(result.files))
        _out.print("next: astra data show AAPL JPM --start 2020-01-01, or astra --help for every command")

    run(lambda: workflows.run_demo(out), render, as_json)


# ------------------------------------------------------------------ data
def _price_table(data, rows: int = 8) -> Table:
    table = Table(title=f"{data.meta.source}: last {min(rows, len(data.prices))} of {len(data.prices)} rows")
    table.add_column(data.prices.index.name or "date")
    for ticker in data.tickers:
        table.add_column(ticker, justify="right")
    for stamp, row in data.prices.tail(rows).iterrows():
        label = stamp.isoformat() if data.meta.interval != "1d" else str(stamp.date())
        table.add_row(label, *("" if math.isnan(v) else f"{v:,.4f}" for v in row))
    return table


def _render_prices(data) -> None:
    _out.print(_price_table(data))
    if data.quality is not None:
        _out.print(f"data quality: {data.quality.summary()}")
    for note in data.meta.notes:
        _err.print(f"note: {note}", highlight=False)


@data_app.command("show")
def data_show(
    tickers: Annotated[list[str] | None, typer.Argument(help="Tickers (default: all the source has).")] = None,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Show cleaned close prices and the data-quality report."""
    from astra.data import load_prices

    run(
        lambda: load_prices(tickers or None, source, start, end, interval=interval, offline=offline),
        _render_prices,
        as_json,
    )


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
    """Download prices and store them in the cache (later served with --offline)."""
    from astra.data import load_prices

    def render(data) -> None:
        _render_prices(data)
        if data.meta.source == "yahoo" and not offline:
            from astra.data.store import default_cache_dir

            _err.print(f"cached under {default_cache_dir()}; repeat with --offline to read it back")

    run(lambda: load_prices(tickers, source, start, end, interval=interval, offline=offline), render, as_json)


@data_app.command("rates")
def data_rates(
    source: Annotated[str, typer.Option("--source", help="irx | flat:R | csv:PATH | synthetic")] = "irx",
    start: StartOpt = None,
    end: EndOpt = None,
    unit: Annotated[str, typer.Option("--unit", help="CSV rates in percent | decimal")] = "percent",
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The funding benchmark as a money-market yield (decimal, ACT/360)."""
    from astra.data import load_rates

    def render(series) -> None:
        tail = series.rates.tail(8)
        table = Table(title=f"{series.source}: {series.convention}")
        table.add_column("date")
        table.add_column("rate", justify="right")
        for day, value in tail.items():
            table.add_row(str(day.date()), f"{value:.4%}")
        _out.print(table)
        _out.print(f"{len(series.rates)} sessions, last {series.last:.4%}, {series.filled} forward-filled")
        for note in series.notes:
            _err.print(f"note: {note}", highlight=False)

    run(lambda: load_rates(source, start, end, offline=offline, unit=unit), render, as_json)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
