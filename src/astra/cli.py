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
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
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
book_app = typer.Typer(help="Client books: positions, marks, exposures.", no_args_is_help=True)
app.add_typer(book_app, name="book")
risk_app = typer.Typer(help="VaR/ES, stress tests and VaR backtests of a book.", no_args_is_help=True)
app.add_typer(risk_app, name="risk")
statarb_app = typer.Typer(help="Pairs: scan, Kalman hedge ratios, signals, back-tests.", no_args_is_help=True)
app.add_typer(statarb_app, name="statarb")

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

# ------------------------------------------------------------------ options shared by commands
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON (to_dict()) only.")]
SourceOpt = Annotated[str, typer.Option("--source", help="sample | yahoo | synthetic | csv:PATH | parquet:PATH")]
StartOpt = Annotated[str | None, typer.Option("--start", help="First date, YYYY-MM-DD (inclusive).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last date, YYYY-MM-DD (inclusive).")]
IntervalOpt = Annotated[str, typer.Option("--interval", help="1d | 1m")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Never touch the network; use the cache.")]
BookArg = Annotated[Path, typer.Argument(help="Book file: TOML, or CSV ticker,quantity[,price].")]
BooksArg = Annotated[list[Path], typer.Argument(help="Book file(s): TOML, or CSV ticker,quantity[,price].")]
ClusterOpt = Annotated[
    str | None, typer.Option("--cluster", help="Run on Dask: local (loopback LocalCluster) or tcp://host:8786")
]
ManyOutOpt = Annotated[Path | None, typer.Option("--out", help="Write books.parquet and totals.parquet here.")]
EquityOpt = Annotated[float | None, typer.Option("--equity", help="Account equity, USD (required for a CSV book).")]
MarkSourceOpt = Annotated[
    str, typer.Option("--marks", help="Where unmarked names are priced: sample | yahoo | csv:PATH | parquet:PATH")
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Mark at the latest close on or before this date.")]


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
    """Run a job; print its result; map AstraError to one stderr line + exit code.

    Warnings raised on purpose by ASTRA (e.g. a spread that looks like percent)
    are shown on stderr as one line each.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = job()
    except AstraError as exc:
        _err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
        raise typer.Exit(exc.exit_code) from None
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            _err.print(f"[yellow]warning:[/] {escape(str(warning.message))}", highlight=False, markup=True)
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
        _out.print(f"next: open {out}/report.html, run make dashboard, or astra --help for every command")

    run(lambda: workflows.run_demo(out), render, as_json)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("astra-out"),
    book: Annotated[Path | None, typer.Option("--book", help="Client book (default: the sample book).")] = None,
    source: Annotated[
        str,
        typer.Option("--source", help="The book's marks and risk history: sample | yahoo | csv:PATH | parquet:PATH"),
    ] = "sample",
    as_json: JsonOpt = False,
) -> None:
    """Write report.html (self-contained, opens offline) and every export for a book."""
    from astra import workflows

    def render(result) -> None:
        _out.print("wrote: " + ", ".join(result.files))

    run(lambda: workflows.run_demo(out, book=book, marks=source, source=source), render, as_json)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback by default).")] = "127.0.0.1",
    as_json: Annotated[bool, typer.Option("--json", help="Print {url, host, port} as JSON, then serve.")] = False,
) -> None:
    """Serve the Streamlit dashboard (opens on the offline sample; no network needed)."""
    import subprocess

    from astra.dashboard import APP

    if not 1 <= port <= 65535:
        _err.print(f"[bold red]error:[/] --port {port} is not a TCP port (1-65535)")
        raise typer.Exit(2)
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port), "--server.address",
               host, "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
    if as_json:
        emit_json({"url": f"http://{host}:{port}", "host": host, "port": port})
    _err.print(f"ASTRA dashboard on http://{host}:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(command))


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


# ------------------------------------------------------------------ book & funding
def _num(value, spec: str) -> str:
    """``value`` formatted, or ``n/a`` for a missing/NaN figure."""
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _load_book(path: Path, equity, marks: str, as_of, offline: bool):
    from astra.book import load_book

    return load_book(path, equity=equity, source=marks, as_of=as_of, offline=offline)


def _render_notes(notes) -> None:
    for note in notes:
        _err.print(f"note: {note}", highlight=False)


def _render_many(report) -> None:
    table = Table(title=f"{len(report.table)} books on {report.workers} worker(s) in {report.elapsed_s:.1f} s")
    preferred = ("book", "group", "status", "gross", "leverage", "daily_carry", "call", "var", "es")
    columns = [c for c in preferred if c in report.table.columns]
    for col in columns:
        table.add_column(col, justify="left" if col in ("book", "group", "status", "model", "method") else "right")
    for _, row in report.table.iterrows():
        table.add_row(*("" if pd.isna(row.get(c)) else (f"{row[c]:,.2f}" if isinstance(row[c], float) else str(row[c]))
                        for c in columns))  # fmt: skip
    _out.print(table)
    if not report.totals.empty:
        _out.print(report.totals.to_string(float_format=lambda v: f"{v:,.2f}"))
    for _, row in report.table[report.table["status"] != "ok"].iterrows():
        _err.print(f"failed: {row['file']}: {row['error']}", highlight=False)


@book_app.command("show")
def book_show(
    book: BookArg,
    equity: EquityOpt = None,
    marks: MarkSourceOpt = "sample",
    as_of: AsOfOpt = None,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Positions with marks, market values and weights; long, short, gross, net, leverage."""

    def render(result) -> None:
        table = Table(title=f"{result.name}: equity ${_money(result.equity)}, marks {result.marks}")
        for col in ("ticker", "quantity", "price", "market value", "weight of gross"):
            table.add_column(col, justify="left" if col == "ticker" else "right")
        for ticker, row in result.to_frame().iterrows():
            table.add_row(
                ticker, f"{row.quantity:,.0f}", _money(row.price), _money(row.market_value), f"{row.weight:+.1%}"
            )
        _out.print(table)
        _out.print(
            f"long {_money(result.long_market_value)}  short {_money(result.short_market_value)}  "
            f"gross {_money(result.gross)}  net {_money(result.net)}  leverage {result.leverage:.2f}x"
        )
        _render_notes(result.notes)

    run(lambda: _load_book(book, equity, marks, as_of, offline), render, as_json)


@app.command()
def funding(
    book: BooksArg,
    rate: Annotated[float | None, typer.Option("--rate", help="Flat benchmark, decimal (0.0363 = 3.63 %).")] = None,
    rate_source: Annotated[
        str | None, typer.Option("--rate-source", help="irx | csv:PATH | flat:R | synthetic (default irx)")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="cash | netted | swap | seed")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Accrual day (default: last business day).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Period start, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Period end (exclusive), YYYY-MM-DD.")] = None,
    compounded: Annotated[bool, typer.Option("--compounded", help="Compound the period in arrears.")] = False,
    regime: Annotated[str | None, typer.Option("--margin", help="reg_t | finra | portfolio")] = None,
    equity: EquityOpt = None,
    marks: MarkSourceOpt = "sample",
    as_of: AsOfOpt = None,
    offline: OfflineOpt = False,
    cluster: ClusterOpt = None,
    out: ManyOutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Daily carry by component and position, margin, and a period accrual (USD, + = client receives).

    Several books (or --cluster) give one row per book and totals by account group.
    """
    from astra import workflows

    if len(book) > 1 or cluster is not None:

        def many():
            from astra.parallel import runner
            from astra.workflows.scale import funding_many

            fixing, _ = workflows.resolve_rate(rate, rate_source, date, date, offline=offline)
            fixing = fixing if isinstance(fixing, float) else fixing.on(date or fixing.rates.index[-1])
            with runner(cluster) as run:
                return funding_many(book, run, rate=fixing, model=model, on=date, marks=marks, out=out)

        run(many, _render_many, as_json)
        return

    def job():
        # Unmarked names are priced on the day being accrued unless --as-of says otherwise.
        loaded = _load_book(book[0], equity, marks, as_of or date or start, offline)
        return workflows.funding_report(
            loaded,
            rate=rate,
            rate_source=rate_source,
            model=model,
            on=date,
            start=start,
            end=end,
            compounded=compounded,
            regime=regime,
            offline=offline,
        )

    def render(report) -> None:
        c, m = report.carry, report.margin
        table = Table(title=f"{report.book.name}: carry on {c.day.date()} ({c.model}, {c.accrual_days} day(s))")
        for col in ("ticker", "market value", "financing", "rebate", "borrow fee", "carry"):
            table.add_column(col, justify="left" if col == "ticker" else "right")
        for ticker, row in c.positions.iterrows():
            table.add_row(
                ticker,
                *(_money(row[k]) for k in ("market_value", "financing", "rebate", "borrow_fee", "carry")),
            )
        _out.print(table)
        parts = ", ".join(f"{k.replace('_', ' ')} {_money(v)}" for k, v in c.components.items())
        _out.print(f"benchmark {report.rate_source}: {c.benchmark_rate:.4%}")
        _out.print(f"daily carry {_money(c.daily_carry)} ({parts}); {c.annual_rate_on_gross:+.3%} a year on gross")
        if c.negative_rebates:
            _out.print(f"negative net rebate (fee above benchmark minus spread): {', '.join(c.negative_rebates)}")
        _out.print(
            f"margin ({m.regime}): requirement {_money(m.requirement)}, equity {_money(m.equity)}, "
            f"excess {_money(m.excess)}, call {_money(m.call)}  "
            f"[Reg T {_money(m.reg_t_initial)} | FINRA {_money(m.finra_maintenance)} | PM {_money(m.portfolio_margin)}]"
        )
        if report.period is not None:
            p = report.period
            how = "compounded" if p.compounded else "simple"
            _out.print(
                f"period {p.start.date()} to {p.end.date()} ({len(p.daily)} business days, "
                f"{int(p.daily['accrual_days'].sum())} accrual days, {how}): {_money(p.total)}"
            )
        _out.print(report.comparison["explanation"])
        _render_notes(report.book.notes)

    run(job, render, as_json)


# ------------------------------------------------------------------ optimize
def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.replace(",", " ").split()]
    except ValueError:
        from astra.errors import InputError

        raise InputError(f"{name} {text!r}: give numbers separated by commas") from None


@app.command()
def optimize(
    tickers: Annotated[list[str] | None, typer.Argument(help="More universe tickers.", show_default=False)] = None,
    problem: Annotated[str, typer.Option("--problem", help="minvar | meanvar | maxret")] = "meanvar",
    universe: Annotated[str | None, typer.Option("--universe", help="Tickers (space- or comma-separated).")] = None,
    book: Annotated[Path | None, typer.Option("--book", help="Start from this book (turnover, terms).")] = None,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    cov: Annotated[str, typer.Option("--cov", help="sample | lw | ewma | factor")] = "lw",
    factors: Annotated[int, typer.Option("--factors", help="PCA factors for --cov factor.")] = 8,
    half_life: Annotated[float, typer.Option("--half-life", help="EWMA half-life, days.")] = 63.0,
    mu: Annotated[str | None, typer.Option("--mu", help="zero | hist (default hist for meanvar/maxret)")] = None,
    alphas: Annotated[Path | None, typer.Option("--alphas", help="CSV ticker,alpha (annual decimals).")] = None,
    gross: Annotated[float, typer.Option("--gross", help="Gross limit, × equity.")] = 2.0,
    net: Annotated[str | None, typer.Option("--net", help="Net band: 0.05 (±) or lo:hi.")] = None,
    max_weight: Annotated[
        float | None, typer.Option("--max-weight", help="|w| per name, × equity (default 1 for minvar, else 0.25).")
    ] = None,
    long_only: Annotated[bool, typer.Option("--long-only", help="No shorts.")] = False,
    gamma: Annotated[float, typer.Option("--gamma", help="Risk aversion on annual variance.")] = 5.0,
    vol_target: Annotated[float | None, typer.Option("--vol-target", help="maxret: annual vol cap.")] = None,
    beta_band: Annotated[str | None, typer.Option("--beta-band", help="Beta band vs --benchmark, e.g. 0.1")] = None,
    benchmark: Annotated[str, typer.Option("--benchmark", help="Series for betas.")] = "SP500",
    groups: Annotated[Path | None, typer.Option("--groups", help="CSV ticker,group (sector map).")] = None,
    group_net: Annotated[float, typer.Option("--group-net", help="Max |net| per group.")] = 0.10,
    locates: Annotated[Path | None, typer.Option("--locates", help="CSV ticker,shares (max short).")] = None,
    adv: Annotated[Path | None, typer.Option("--adv", help="CSV ticker,adv_usd: enables market impact.")] = None,
    turnover: Annotated[float | None, typer.Option("--turnover", help="Max Σ|w − w_book|.")] = None,
    tc_bps: Annotated[float, typer.Option("--tc-bps", help="Linear trading cost, bp of traded value.")] = 10.0,
    rate: Annotated[float | None, typer.Option("--rate", help="Flat benchmark for funding costs.")] = None,
    rate_source: Annotated[str | None, typer.Option("--rate-source", help="irx | csv:PATH | flat:R")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Funding convention (default the book's).")] = None,
    equity: EquityOpt = None,
    lot: Annotated[int, typer.Option("--lot", help="Round shares to this lot.")] = 1,
    frontier: Annotated[str | None, typer.Option("--frontier", help="γ values to sweep, e.g. 1,2,5,10")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write optimized_weights.csv/.parquet here.")] = None,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Funding-aware long/short construction under PB limits (weights × equity, shares in lots)."""
    from astra import workflows

    def job():
        names = [*(universe or "").replace(",", " ").split(), *(tickers or [])]
        loaded = _load_book(book, equity, "sample" if source != "yahoo" else source, end, offline) if book else None
        report = workflows.optimize_portfolio(
            problem=problem, universe=names, book=loaded, source=source, start=start, end=end, cov=cov,
            factors=factors, half_life=half_life, mu=mu, alphas_file=alphas, gross=gross, net=net,
            max_weight=max_weight, long_only=long_only, gamma=gamma, vol_target=vol_target, beta_band=beta_band,
            benchmark=benchmark, groups_file=groups, group_net=group_net, locates_file=locates, adv_file=adv,
            turnover=turnover, tc_bps=tc_bps, rate=rate, rate_source=rate_source, funding_model=model,
            equity=equity, lot=lot, gammas=_floats(frontier, "--frontier"), offline=offline,
        )  # fmt: skip
        if out is not None:
            from astra._io import ensure_writable_dir

            target = ensure_writable_dir(out, what="--out directory")
            frame = report.to_frame()
            workflows.write_frame(frame, target / "optimized_weights.csv")
            workflows.write_frame(frame, target / "optimized_weights.parquet")
        return report

    def render(report) -> None:
        r = report.result
        table = Table(
            title=f"{report.inputs['problem']} on {report.inputs['source']} "
            f"{report.inputs['start']}..{report.inputs['end']} ({r.solver}, {r.solve_ms:.0f} ms)"
        )
        for col in ("ticker", "weight", "shares", "value"):
            table.add_column(col, justify="left" if col == "ticker" else "right")
        for ticker, row in report.to_frame().iterrows():
            if abs(row.weight) > 1e-6:
                table.add_row(ticker, f"{row.weight:+.2%}", f"{row.shares:,.0f}", _money(row.value))
        _out.print(table)
        _out.print(
            f"gross {r.gross:.3f}  net {r.net:+.4f}  volatility {r.volatility_ann:.2%}/yr  "
            f"expected return {r.expected_return_ann:+.2%}/yr  carry {r.carry_ann:+.3%}/yr  "
            f"trading cost {r.trading_cost:.4%}  turnover {r.turnover:.3f}"
        )
        _out.print(f"binding: {', '.join(r.binding) or 'none'}")
        for point in report.frontier:
            _out.print(
                f"  γ={point['gamma']:g}: vol {point['volatility_ann']:.2%}, return {point['expected_return_ann']:+.2%}"
            )
        _render_notes(report.notes)

    run(job, render, as_json)


# ------------------------------------------------------------------ risk
LevelOpt = Annotated[float, typer.Option("--level", help="Confidence level, e.g. 0.99.")]
RiskMethodOpt = Annotated[str, typer.Option("--method", help="param | hist | fhs | mc")]
RiskSourceOpt = Annotated[str, typer.Option("--source", help="Price history: sample | yahoo | csv:PATH | parquet:PATH")]


def _risk_book(book: Path, equity, marks: str, offline: bool):
    return _load_book(book, equity, marks, None, offline)


@risk_app.command("var")
def risk_var_cmd(
    book: BooksArg,
    method: RiskMethodOpt = "hist",
    dist: Annotated[str, typer.Option("--dist", help="normal | t | bootstrap (mc); normal | t (param)")] = "normal",
    horizon: Annotated[int, typer.Option("--horizon", help="Days; buy-and-hold compounded paths.")] = 1,
    level: LevelOpt = 0.99,
    scenarios: Annotated[int, typer.Option("--scenarios", help="Monte-Carlo draws (mc, fhs).")] = 100_000,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (mc, fhs).")] = None,
    window: Annotated[int | None, typer.Option("--window", help="Last N days of history only.")] = None,
    scaling: Annotated[str | None, typer.Option("--scaling", help="sqrt: one-day figure x sqrt(h).")] = None,
    vol_model: Annotated[str, typer.Option("--vol-model", help="fhs: ewma | garch")] = "ewma",
    paths: Annotated[
        str, typer.Option("--paths", help="mc normal: compound (daily simple returns) | lognormal (one draw)")
    ] = "compound",
    covariance: Annotated[
        str, typer.Option("--covariance", help="param, mc normal/t: sample | lw | ewma | factor (PCA + specific)")
    ] = "sample",
    factors: Annotated[int, typer.Option("--factors", help="Factors of --covariance factor.")] = 8,
    antithetic: Annotated[
        bool, typer.Option("--antithetic", help="mc normal/t: antithetic pairs (half the draws; errors over pairs)")
    ] = False,
    source: RiskSourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    equity: EquityOpt = None,
    marks: MarkSourceOpt = "sample",
    offline: OfflineOpt = False,
    cluster: ClusterOpt = None,
    chunk: Annotated[int, typer.Option("--chunk", help="Scenarios per task with --cluster (mc).")] = 2_000_000,
    out: ManyOutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Value at risk and expected shortfall (positive USD losses), MC errors, Euler components.

    Several books give one row per book; one book with --cluster and --method mc runs the
    scenarios in chunks on the cluster (independent seeded streams, tails merged exactly).
    """
    from astra.workflows.risk import risk_var

    if len(book) > 1 or cluster is not None:

        def many():
            from astra.parallel import runner
            from astra.workflows import scale
            from astra.workflows.risk import book_history

            with runner(cluster) as run:
                if len(book) == 1 and method == "mc":
                    history = book_history(_risk_book(book[0], equity, marks, offline), source=source, start=start,
                                           end=end, offline=offline)  # fmt: skip
                    returns = history.returns if window is None else history.returns.iloc[-window:]
                    return scale.mc_var_chunked(history.exposures, returns, run, scenarios=scenarios, level=level,
                                                horizon=horizon, dist=dist, seed=seed, chunk=chunk)  # fmt: skip
                options = {"method": method, "dist": dist, "horizon": horizon, "level": level, "window": window}
                if method in ("mc", "fhs"):
                    options.update(scenarios=scenarios, seed=seed)
                return scale.risk_var_many(book, run, options=options, marks=marks, source=source, start=start,
                                           end=end, out=out)  # fmt: skip

        def render_many(result) -> None:
            if hasattr(result, "table"):
                _render_many(result)
            else:
                _out.print(f"{result.level:.1%} VaR {_money(result.var)}, ES {_money(result.es)} from "
                           f"{result.scenarios:,} scenarios in {result.chunks} chunks on {result.workers} worker(s), "
                           f"{result.elapsed_s:.1f} s")  # fmt: skip

        run(many, render_many, as_json)
        return

    def job():
        options = {"method": method, "dist": dist, "horizon": horizon, "level": level, "window": window,
                   "scaling": scaling}  # fmt: skip
        if method in ("mc", "fhs"):
            options.update(scenarios=scenarios, seed=seed)
        if method == "fhs":
            options["vol_model"] = vol_model
        if paths != "compound":
            options["paths"] = paths
        if covariance != "sample":
            options.update(covariance=covariance, factors=factors)
        if antithetic:
            options["antithetic"] = True
        loaded = _risk_book(book[0], equity, marks, offline)
        return risk_var(loaded, source=source, start=start, end=end, offline=offline, **options)

    def render(report) -> None:
        d = report.to_dict()
        _out.print(
            f"{d['book']}: {d['method']} {d['level']:.1%} {d['horizon_days']}-day VaR {_money(d['var'])} "
            f"({d['var_pct_gross']:.2f}% of gross), ES {_money(d['es'])} ({d['es_pct_gross']:.2f}%)"
        )
        se = d["mc_std_error"]
        if se.get("var") is not None:
            lo, hi = d["ci95"]["var"]
            ci = f"VaR 95% CI {_money(lo)} .. {_money(hi)}"
            _out.print(f"standard error: VaR {_money(se['var'])}, ES {_money(se['es'])}; {ci}")
        table = Table(title="Euler attribution (components sum to the total)")
        for col in ("ticker", "component VaR", "marginal VaR", "share"):
            table.add_column(col, justify="left" if col == "ticker" else "right")
        for c in d["components"]:
            table.add_row(c["ticker"], _money(c["component_var"]), f"{c['marginal_var']:.4f}", f"{c['pct']:.1f}%")
        _out.print(table)
        _out.print(f"{d['observations']} days of history {d['history_start']} .. {d['history_end']} ({d['source']})")

    run(job, render, as_json)


@risk_app.command("stress")
def risk_stress_cmd(
    book: BookArg,
    rate: Annotated[float, typer.Option("--rate", help="Benchmark for the funding shock, decimal.")] = 0.043,
    rate_shock_bp: Annotated[float, typer.Option("--rate-shock-bp", help="Benchmark shock, bp.")] = 100.0,
    groups: Annotated[Path | None, typer.Option("--groups", help="CSV ticker,group for sector shocks.")] = None,
    sector_shock: Annotated[float, typer.Option("--sector-shock", help="Sector move, decimal.")] = -0.10,
    source: RiskSourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    equity: EquityOpt = None,
    marks: MarkSourceOpt = "sample",
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """P&L under historical windows, named episodes, hypothetical and funding shocks; reverse stress."""
    from astra.workflows.optimize import read_ticker_csv
    from astra.workflows.risk import risk_stress

    def job():
        loaded = _risk_book(book, equity, marks, offline)
        mapping = read_ticker_csv(groups, "group", numeric=False) if groups else None
        return risk_stress(loaded, source=source, start=start, end=end, offline=offline, rate=rate,
                           rate_shock_bp=rate_shock_bp, groups=mapping, sector_shock=sector_shock)  # fmt: skip

    def render(report) -> None:
        table = Table(title=f"{report.book.name}: stress scenarios (USD, % of gross)")
        for col in ("scenario", "kind", "P&L", "% gross", "window"):
            table.add_column(col, justify="left" if col in ("scenario", "kind", "window") else "right")
        for name, row in report.table.sort_values("pnl").iterrows():
            window = "" if not isinstance(row["start"], pd.Timestamp) else f"{row['start'].date()}..{row['end'].date()}"
            table.add_row(str(name), str(row["kind"]), _money(row["pnl"]), f"{row['pnl_pct_gross']:+.2f}%", window)
        _out.print(table)
        rev = report.reverse
        moves = ", ".join(f"{side} {_num(rev.get(side), '+.2%')}" for side in ("down", "up"))
        _out.print(f"reverse stress ({rev['regime']}): uniform price move that wipes the margin excess: {moves}")
        _render_notes(report.notes)

    run(job, render, as_json)


@risk_app.command("backtest")
def risk_backtest_cmd(
    book: BookArg,
    method: RiskMethodOpt = "hist",
    window: Annotated[int, typer.Option("--window", help="Estimation window, days.")] = 500,
    level: LevelOpt = 0.99,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed (mc/fhs forecasts, Z2 p-value).")] = 0,
    source: RiskSourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    equity: EquityOpt = None,
    marks: MarkSourceOpt = "sample",
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Rolling one-day VaR/ES forecasts vs realised P&L: Kupiec, Christoffersen, traffic light, ES Z2."""
    from astra.workflows.risk import risk_backtest

    def job():
        loaded = _risk_book(book, equity, marks, offline)
        return risk_backtest(loaded, method=method, window=window, level=level, source=source, start=start,
                             end=end, offline=offline, seed=seed)  # fmt: skip

    def render(report) -> None:
        d = report.to_dict()
        _out.print(
            f"{d['book']}: {d['method']} VaR {d['level']:.1%}, window {d['window']}: {d['n_exceptions']} exceptions "
            f"in {d['n_obs']} days (expected {d['expected_exceptions']:.1f})"
        )
        _out.print(f"Kupiec POF LR {d['kupiec_lr']:.3f} (p {d['kupiec_pvalue']:.4f}); Christoffersen independence LR "
                   f"{d['independence_lr']:.3f} (p {d['independence_pvalue']:.4f}); conditional coverage p "
                   f"{d['conditional_coverage_pvalue']:.4f}")  # fmt: skip
        _out.print(f"Basel traffic light: {d['traffic_light']}; ES Z2 {_num(d['es_z2'], '.3f')} "
                   f"(p {_num(d['es_z2_pvalue'], '.4f')})")  # fmt: skip

    run(job, render, as_json)


# ------------------------------------------------------------------ statarb
def _read_universe(path: Path) -> list[str]:
    from astra.errors import InputError

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the universe file ({exc})") from exc
    column = next((c for c in frame.columns if str(c).strip().lower() in ("ticker", "symbol")), None)
    if column is None:
        raise InputError(f"{path}: needs a 'ticker' column")
    return [str(t).strip().upper() for t in frame[column].dropna()]


def _universe(universe: str | None, tickers: list[str] | None) -> list[str]:
    return [*(universe or "").replace(",", " ").split(), *(tickers or [])]


@statarb_app.command("scan")
def statarb_scan(
    tickers: Annotated[list[str] | None, typer.Argument(help="More universe tickers.", show_default=False)] = None,
    universe: Annotated[str | None, typer.Option("--universe", help="Tickers (default: all the source has).")] = None,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    fdr: Annotated[float, typer.Option("--fdr", help="False-discovery rate; only discoveries are kept.")] = 0.05,
    keep_all: Annotated[bool, typer.Option("--all", help="List every pair, not only discoveries.")] = False,
    lags: Annotated[int, typer.Option("--lags", help="ADF lags on the residual.")] = 1,
    universe_file: Annotated[Path | None, typer.Option("--universe-file", help="CSV with a ticker column.")] = None,
    cluster: ClusterOpt = None,
    block: Annotated[int, typer.Option("--block", help="Pairs per task with --cluster.")] = 5_000,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Engle-Granger on every pair, ranked, with Benjamini-Hochberg q-values (FDR over all pairs)."""
    from astra.data import load_prices
    from astra.statarb.scan import scan

    def job():
        names = _universe(universe, tickers)
        if universe_file is not None:
            frame = _read_universe(universe_file)
            names = [*names, *frame]
        data = load_prices(names or None, source, start, end, interval=interval, offline=offline)
        if cluster is None:
            return scan(data.prices, lags=lags, fdr=fdr, only_discoveries=not keep_all)
        from astra.parallel import runner
        from astra.workflows.scale import scan_blocks

        with runner(cluster) as run:
            return scan_blocks(data.prices, run, lags=lags, fdr=fdr, block=block, only_discoveries=not keep_all)

    def render(result) -> None:
        shown = result.table.head(25)
        table = Table(
            title=f"{result.bars} bars, {result.tested} pairs tested, {len(result.table)} listed, FDR {result.fdr:g} "
            f"({'all pairs' if keep_all else 'discoveries only'})"
        )
        for col in ("y", "x", "EG stat", "p", "q", "beta", "half-life", "spread vol"):
            table.add_column(col, justify="left" if col in ("y", "x") else "right")
        for _, r in shown.iterrows():
            table.add_row(
                r.y, r.x, f"{r.eg_stat:.2f}", f"{r.p_value:.4f}", f"{r.q_value:.4f}", f"{r.beta:.3f}",
                f"{r.half_life_bars:.1f}", f"{r.spread_vol:.4f}",
            )  # fmt: skip
        _out.print(table)
        if result.table.empty:
            _out.print("no pair passes the FDR level; --all lists every pair")

    run(job, render, as_json)


PairX = Annotated[str, typer.Option("--x", help="Hedge leg ticker (x).")]
PairY = Annotated[str, typer.Option("--y", help="Traded leg ticker (y).")]
DaysOpt = Annotated[int | None, typer.Option("--days", help="Last N sessions (intraday runs).")]
ModelOpt = Annotated[str, typer.Option("--model", help="kalman2 | kalman3")]
FitOpt = Annotated[str, typer.Option("--fit", help="mle | fixed")]
CostOpt = Annotated[float, typer.Option("--cost-bps", help="Trading cost, bp of traded notional.")]
CapitalOpt = Annotated[float, typer.Option("--capital", help="Gross notional per position, USD.")]
NeutralOpt = Annotated[bool, typer.Option("--dollar-neutral", help="Equal dollars per leg instead of beta shares.")]
WarmupOpt = Annotated[int, typer.Option("--warmup", help="Bars for the prior; no trading before.")]
StopOpt = Annotated[float, typer.Option("--stop", help="Stop-loss |z|.")]


@statarb_app.command("run")
def statarb_run_cmd(
    x: PairX,
    y: PairY,
    source: SourceOpt = "sample",
    interval: IntervalOpt = "1d",
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    model: ModelOpt = "kalman2",
    fit: FitOpt = "mle",
    entry: Annotated[float, typer.Option("--entry", help="Enter when |z| exceeds this.")] = 2.0,
    exit_: Annotated[float, typer.Option("--exit", help="Exit when z crosses back inside this.")] = 0.5,
    stop: StopOpt = 4.0,
    max_hold: Annotated[int, typer.Option("--max-hold", help="Max bars in a trade (0 = none).")] = 0,
    warmup: WarmupOpt = 30,
    quiet: Annotated[int, typer.Option("--quiet-bars", help="No entries in a session's first/last N bars.")] = 0,
    flat_close: Annotated[bool, typer.Option("--flat-at-close", help="Close positions at each session end.")] = False,
    cost_bps: CostOpt = 1.0,
    half_spread_bps: Annotated[float, typer.Option("--half-spread-bps", help="Half the bid-ask, bp.")] = 0.0,
    capital: CapitalOpt = 1_000_000.0,
    dollar_neutral: NeutralOpt = False,
    rate: Annotated[float | None, typer.Option("--rate", help="Benchmark for overnight funding.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Fit before this date, trade from it.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write kalman_signals and trades here.")] = None,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Kalman hedge ratio, z-score signals with hold logic, and a costed two-leg back-test."""
    from astra import workflows
    from astra.statarb import SignalRules

    def job():
        rules = SignalRules(entry=entry, exit=exit_, stop=stop, max_hold=max_hold, warmup=warmup,
                            quiet_bars=quiet, flat_at_close=flat_close)  # fmt: skip
        return workflows.statarb_run(
            x, y, source=source, interval=interval, start=start, end=end, days=days, model=model, fit=fit,
            rules=rules, cost_bps=cost_bps, half_spread_bps=half_spread_bps, capital=capital,
            dollar_neutral=dollar_neutral, rate=rate, split=split, out=out, offline=offline,
        )  # fmt: skip

    def render(report) -> None:
        d = report.to_dict()
        _out.rule(
            f"[bold]{report.pair[1]} vs {report.pair[0]}[/] ({report.source}, {report.interval}, {d['bars']} bars)"
        )
        params = ", ".join(f"{k} {v:.3g}" for k, v in d["params"].items())
        half = d["half_life_bars"]
        _out.print(
            f"{d['model']}: {params}; beta now {d['beta_last']:.4f}; "
            f"half-life {'n/a' if half is None else f'{half:.1f} bars'}; z variance {d['z_variance']:.3f}"
        )
        lo, hi = d["sharpe_ci95"]
        _out.print(
            f"{d['trades']} trades, total return {d['total_return']:+.3%}, Sharpe {_num(d['sharpe_ann'], '.2f')} "
            f"(95% CI {_num(lo, '.2f')} to {_num(hi, '.2f')}), max drawdown {d['max_drawdown']:.2%}, "
            f"hit rate {_num(d['hit_rate'], '.0%')}, avg hold {_num(d['avg_hold_bars'], '.1f')} bars; "
            f"costs {_money(d['costs'])}, funding {_money(d['borrow'])}"
        )
        _render_notes(report.notes)
        if report.files:
            _err.print("wrote: " + ", ".join(report.files))

    run(job, render, as_json)


@statarb_app.command("sweep")
def statarb_sweep_cmd(
    x: PairX,
    y: PairY,
    entry: Annotated[str, typer.Option("--entry", help="Range start:stop:step, e.g. 1.5:3:0.25")] = "1.5:3:0.25",
    exit_: Annotated[str, typer.Option("--exit", help="Range start:stop:step, e.g. 0:1:0.25")] = "0:1:0.25",
    source: SourceOpt = "sample",
    interval: IntervalOpt = "1d",
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    model: ModelOpt = "kalman2",
    fit: FitOpt = "mle",
    stop: StopOpt = 4.0,
    warmup: WarmupOpt = 30,
    cost_bps: CostOpt = 1.0,
    capital: CapitalOpt = 1_000_000.0,
    dollar_neutral: NeutralOpt = False,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Net Sharpe, return and trades over an entry x exit grid (in-sample: the best cell is biased)."""
    from astra import workflows
    from astra.statarb import SignalRules
    from astra.statarb.sweep import parse_range

    def job():
        entries, exits = parse_range(entry, "--entry"), parse_range(exit_, "--exit")
        if stop <= entries.max():
            from astra.errors import InputError

            raise InputError(f"--stop {stop:g} must be above the largest entry {entries.max():g}")
        rules = SignalRules(entry=float(entries.min()), exit=float(min(exits.min(), entries.min() - 1e-9)),
                            stop=stop, warmup=warmup)  # fmt: skip
        return workflows.statarb_sweep(
            x, y, entries, exits, source=source, interval=interval, start=start, end=end, days=days, model=model,
            fit=fit, rules=rules, cost_bps=cost_bps, capital=capital, dollar_neutral=dollar_neutral,
            offline=offline,
        )  # fmt: skip

    def render(result) -> None:
        grid = result.table.pivot(index="entry", columns="exit", values="sharpe_ann")
        table = Table(title="net Sharpe ratio (after trading costs, before funding) by entry (rows) and exit")
        table.add_column("entry")
        for col in grid.columns:
            table.add_column(f"{col:g}", justify="right")
        for entry_value, row in grid.iterrows():
            table.add_row(f"{entry_value:g}", *("" if math.isnan(v) else f"{v:.2f}" for v in row))
        _out.print(table)
        _err.print(f"warning: {result.warning}", highlight=False)

    run(job, render, as_json)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
