"""``astra statarb scan|run|sweep``: pair scan, Kalman hedge ratios with hold logic, costed back-tests."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from astra.cli._app import statarb_app
from astra.cli._common import (
    ClusterOpt,
    EndOpt,
    ForceOpt,
    IntervalOpt,
    JsonOpt,
    OfflineOpt,
    OutOpt,
    RateOpt,
    SourceOpt,
    StartOpt,
    TcOpt,
    line,
    money,
    note,
    notes,
    num,
    run,
    table,
)

PairX = Annotated[str, typer.Option("--x", help="Hedge leg ticker (x).")]
PairY = Annotated[str, typer.Option("--y", help="Traded leg ticker (y).")]
DaysOpt = Annotated[int | None, typer.Option("--days", help="Last N sessions (intraday runs).")]
FilterOpt = Annotated[str, typer.Option("--filter", help="Kalman: kalman2 (alpha, beta) | kalman3 (+ AR(1) spread)")]
FitOpt = Annotated[str, typer.Option("--fit", help="mle | fixed")]
CapitalOpt = Annotated[float, typer.Option("--capital", help="Gross notional per position, USD.")]
NeutralOpt = Annotated[bool, typer.Option("--dollar-neutral", help="Equal dollars per leg instead of beta shares.")]
WarmupOpt = Annotated[int, typer.Option("--warmup", help="Bars for the prior; no trading before.")]
StopOpt = Annotated[float, typer.Option("--stop", help="Stop-loss |z|.")]


TREND_HELP = (
    "Deterministic terms of the cointegrating regression: c constant, ct + linear trend, ctt + squared, n none."
)
MAXLAG_HELP = "ADF lags on the residual (default 1); with --autolag the most tried (default Schwert's 12·(n/100)^¼)."
OVERLAP_HELP = "Fewest common bars a pair needs; each pair uses the bars where both legs have a price."
TrendOpt = Annotated[str, typer.Option("--trend", help=TREND_HELP)]
MaxlagOpt = Annotated[int | None, typer.Option("--maxlag", help=MAXLAG_HELP)]
AutolagOpt = Annotated[
    str | None, typer.Option("--autolag", help="Choose the ADF lag up to --maxlag: aic | bic | t-stat (statsmodels).")
]
LevelsOpt = Annotated[bool, typer.Option("--levels", help="Test prices rather than log prices.")]


def _maxlag(maxlag: int | None, autolag: str | None) -> int | None:
    """--maxlag defaults to 1 without --autolag, and to Schwert's rule (None) with it."""
    return maxlag if maxlag is not None or autolag is not None else 1


@statarb_app.command("scan")
def statarb_scan(
    tickers: Annotated[list[str] | None, typer.Argument(help="More universe tickers.", show_default=False)] = None,
    universe: Annotated[str | None, typer.Option("--universe", help="Tickers (default: all the source has).")] = None,
    universe_file: Annotated[Path | None, typer.Option("--universe-file", help="CSV with a ticker column.")] = None,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    trend: TrendOpt = "c",
    maxlag: MaxlagOpt = None,
    autolag: AutolagOpt = None,
    levels: LevelsOpt = False,
    min_overlap: Annotated[int, typer.Option("--min-overlap", help=OVERLAP_HELP)] = 100,
    fdr: Annotated[float, typer.Option("--fdr", help="False-discovery rate; only discoveries are kept.")] = 0.05,
    keep_all: Annotated[bool, typer.Option("--all", help="List every pair, not only discoveries.")] = False,
    cluster: ClusterOpt = None,
    block: Annotated[int, typer.Option("--block", help="Pairs per task (with --cluster, per Dask task).")] = 5_000,
    offline: OfflineOpt = False,
    out: OutOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Engle-Granger on every pair, each on its own common bars, with Benjamini-Hochberg q-values over all pairs."""
    from astra.workflows.statarb import statarb_scan as scan_workflow

    def render(report) -> None:
        r = report.result
        shown = r.table.head(25)
        rows = (
            [p.y, p.x, f"{p.eg_stat:.2f}", f"{p.p_value:.4f}", f"{p.q_value:.4f}", f"{p.beta:.3f}",
             num(p.half_life_bars, ".1f")]
            for p in shown.itertuples()
        )  # fmt: skip
        kept = "all pairs" if keep_all else "discoveries only"
        table(f"{r.tested:,} pairs tested, {len(r.table):,} listed ({kept}, FDR {r.fdr:g})",
              ["y", "x", "EG stat", "p", "q", "beta", "half-life"], rows, left=("x",))  # fmt: skip
        if r.table.empty:
            line("no pair passes the FDR level; --all lists every pair")
        elif len(r.table) > len(shown):
            line(f"showing the first {len(shown)} of {len(r.table):,}; --json or --out for all")
        notes(report.notes)
        if report.files:
            note(", ".join(report.files), label="wrote")

    names = [universe or "", *(tickers or [])]
    run(lambda: scan_workflow(names, universe_file=universe_file, source=source, start=start, end=end,
                              interval=interval, trend=trend, maxlag=_maxlag(maxlag, autolag), autolag=autolag,
                              levels=levels, min_overlap=min_overlap, fdr=fdr, only_discoveries=not keep_all,
                              cluster=cluster, block=block, offline=offline, out=out, force=force),
        render, as_json)  # fmt: skip


def _render_run(report) -> None:
    d = report.to_dict()
    line(f"{report.pair[1]} vs {report.pair[0]} ({report.source}, {report.interval}, {d['bars']} bars)")
    params = ", ".join(f"{k} {v:.3g}" for k, v in d["params"].items())
    half = d["half_life_bars"]
    line(f"{d['model']}: {params}; beta now {d['beta_last']:.4f}; half-life "
         f"{'n/a' if half is None else f'{half:.1f} bars'}; z variance {d['z_variance']:.3f}")  # fmt: skip
    lo, hi = d["sharpe_ci95"]
    line(f"{d['trades']} trades, total return {d['total_return']:+.3%}, Sharpe {num(d['sharpe_ann'], '.2f')} "
         f"(95% CI {num(lo, '.2f')} to {num(hi, '.2f')}), max drawdown {d['max_drawdown']:.2%}")  # fmt: skip
    line(f"hit rate {num(d['hit_rate'], '.0%')}, average hold {num(d['avg_hold_bars'], '.1f')} bars; costs "
         f"{money(d['costs'])}, funding {money(d['borrow'])}")  # fmt: skip
    notes(report.notes)
    if report.files:
        note(", ".join(report.files), label="wrote")


@statarb_app.command("run")
def statarb_run_cmd(
    x: PairX,
    y: PairY,
    source: SourceOpt = "sample",
    interval: IntervalOpt = "1d",
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    model: FilterOpt = "kalman2",
    fit: FitOpt = "mle",
    entry: Annotated[float, typer.Option("--entry", help="Enter when |z| exceeds this.")] = 2.0,
    exit_: Annotated[float, typer.Option("--exit", help="Exit when z crosses back inside this.")] = 0.5,
    stop: StopOpt = 4.0,
    max_hold: Annotated[int, typer.Option("--max-hold", help="Max bars in a trade (0 = none).")] = 0,
    warmup: WarmupOpt = 30,
    quiet: Annotated[int, typer.Option("--quiet-bars", help="No entries in a session's first/last N bars.")] = 0,
    flat_close: Annotated[bool, typer.Option("--flat-at-close", help="Close positions at each session end.")] = False,
    cost_bps: TcOpt = 1.0,
    half_spread_bps: Annotated[float, typer.Option("--half-spread-bps", help="Half the bid-ask, bp.")] = 0.0,
    capital: CapitalOpt = 1_000_000.0,
    dollar_neutral: NeutralOpt = False,
    rate: RateOpt = None,
    split: Annotated[str | None, typer.Option("--split", help="Fit before this date, trade from it.")] = None,
    trend: TrendOpt = "c",
    maxlag: MaxlagOpt = None,
    autolag: AutolagOpt = None,
    levels: LevelsOpt = False,
    out: OutOpt = None,
    force: ForceOpt = False,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Kalman hedge ratio, z-score signals with hold logic, and a costed two-leg back-test.

    With --rate, overnight funding and borrow of the legs are priced by the funding engine.
    """
    from astra import workflows
    from astra.statarb import SignalRules

    def job():
        rules = SignalRules(entry=entry, exit=exit_, stop=stop, max_hold=max_hold, warmup=warmup, quiet_bars=quiet,
                            flat_at_close=flat_close)  # fmt: skip
        return workflows.statarb_run(
            x, y, source=source, interval=interval, start=start, end=end, days=days, model=model, fit=fit,
            rules=rules, cost_bps=cost_bps, half_spread_bps=half_spread_bps, capital=capital,
            dollar_neutral=dollar_neutral, rate=rate, split=split, out=out, force=force, offline=offline,
            trend=trend, maxlag=_maxlag(maxlag, autolag), autolag=autolag, levels=levels,
        )  # fmt: skip

    run(job, _render_run, as_json)


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
    model: FilterOpt = "kalman2",
    fit: FitOpt = "mle",
    stop: StopOpt = 4.0,
    max_hold: Annotated[int, typer.Option("--max-hold", help="Max bars in a trade (0 = none).")] = 0,
    warmup: WarmupOpt = 30,
    quiet: Annotated[int, typer.Option("--quiet-bars", help="No entries in a session's first/last N bars.")] = 0,
    flat_close: Annotated[bool, typer.Option("--flat-at-close", help="Close positions at each session end.")] = False,
    cost_bps: TcOpt = 1.0,
    capital: CapitalOpt = 1_000_000.0,
    dollar_neutral: NeutralOpt = False,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Net Sharpe, return and trades over an entry x exit grid (in-sample: the best cell is biased)."""
    from astra import workflows

    def render(result) -> None:
        grid = result.table.pivot(index="entry", columns="exit", values="sharpe_ann")
        rows = ([f"{e:g}", *("" if math.isnan(v) else f"{v:.2f}" for v in row)] for e, row in grid.iterrows())
        table("net Sharpe (after trading costs, before funding): entry (rows) by exit",
              ["entry", *(f"{c:g}" for c in grid.columns)], rows)  # fmt: skip
        note(result.warning, label="warning")

    run(lambda: workflows.statarb_sweep(
        x, y, entry, exit_, stop=stop, max_hold=max_hold, warmup=warmup, quiet_bars=quiet, flat_at_close=flat_close,
        source=source, interval=interval, start=start, end=end, days=days, model=model, fit=fit, cost_bps=cost_bps,
        capital=capital, dollar_neutral=dollar_neutral, offline=offline,
    ), render, as_json)  # fmt: skip
