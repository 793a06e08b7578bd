"""``astra risk var|stress|backtest``: VaR/ES with errors and Euler components, stress, backtests."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from astra.cli._app import risk_app
from astra.cli._common import (
    BookArg,
    BooksArg,
    ClusterOpt,
    CovOpt,
    EndOpt,
    EquityOpt,
    FactorsOpt,
    ForceOpt,
    GroupsOpt,
    JsonOpt,
    LevelOpt,
    OfflineOpt,
    OutOpt,
    RateOpt,
    RateSourceOpt,
    SeedOpt,
    SourceOpt,
    StartOpt,
    line,
    money,
    note,
    notes,
    num,
    pct,
    render_many,
    run,
    table,
)

MethodOpt = Annotated[str, typer.Option("--method", help="param | hist | fhs | mc")]
VR_HELP = (
    "mc/fhs: auto (a pilot picks the design with the least VaR variance per unit of work), none, or "
    "importance, antithetic, control joined by '+'"
)
TARGET_HELP = (
    "mc/fhs: stop when VaR's standard error is this fraction of VaR (0.5% or 0.005); --max-scenarios caps the run"
)


def _render_var(report) -> None:
    d = report.to_dict()
    line(f"{d['book']}: {d['method']} {d['level']:.1%} {d['horizon_days']}-day VaR {money(d['var'])} "
         f"({d['var_pct_gross']:.2f}% of gross), ES {money(d['es'])} ({d['es_pct_gross']:.2f}%)")  # fmt: skip
    se = d.get("mc_std_error") or {}
    if se.get("var"):
        lo, hi = d["ci95"]["var"]
        relative = se["var"] / d["var"] if d["var"] else float("nan")
        line(f"standard error: VaR {money(se['var'])} ({pct(relative, 2, sign=False)}), ES {money(se['es'])}; "
             f"VaR 95% CI {money(lo)} .. {money(hi)}; {d.get('scenarios', 0):,} scenarios")  # fmt: skip
    design = d.get("variance_reduction")
    if design:
        factor = design.get("factor_var")
        gain = f": VaR variance {factor:,.0f}× smaller per scenario than plain sampling" if factor else ""
        how = " (chosen by a pilot run)" if design.get("chosen_by") == "pilot" else ""
        line(f"variance reduction {design.get('method', 'none')}{how}{gain}")
    if d.get("converged") is False:
        line("the standard-error target was not reached within --max-scenarios")
    rows = (
        [c["ticker"], money(c["component_var"]), num(c["marginal_var"], ".4f"),
         "—" if c["pct"] is None else f"{c['pct']:.1f}%"]
        for c in d["components"]
    )  # fmt: skip
    if d["components"]:
        table("Euler attribution (components sum to the total)", ["ticker", "component VaR", "marginal VaR",
              "share"], rows)  # fmt: skip
    line(f"{d['observations']} days of history {d['history_start']} .. {d['history_end']} ({d['source']}); "
         f"marks: {d['marks']}")  # fmt: skip
    notes(d.get("notes", ()))


@risk_app.command("var")
def risk_var_cmd(
    books: BooksArg,
    method: MethodOpt = "hist",
    dist: Annotated[str, typer.Option("--dist", help="normal | t | bootstrap (mc); normal | t (param)")] = "normal",
    horizon: Annotated[int, typer.Option("--horizon", help="Days; buy-and-hold compounded paths.")] = 1,
    level: LevelOpt = 0.99,
    scenarios: Annotated[int, typer.Option("--scenarios", help="Monte-Carlo draws (mc, fhs).")] = 100_000,
    seed: SeedOpt = None,
    window: Annotated[int | None, typer.Option("--window", help="Last N days of history only.")] = None,
    scaling: Annotated[str | None, typer.Option("--scaling", help="sqrt: one-day figure x sqrt(h).")] = None,
    vol_model: Annotated[str, typer.Option("--vol-model", help="fhs: ewma | garch")] = "ewma",
    paths: Annotated[
        str, typer.Option("--paths", help="mc normal: compound (daily simple returns) | lognormal (one draw)")
    ] = "compound",
    cov: CovOpt = "sample",
    factors: FactorsOpt = 8,
    antithetic: Annotated[
        bool,
        typer.Option("--antithetic", help="mc: antithetic pairs only (the same as --variance-reduction antithetic)"),
    ] = False,
    variance_reduction: Annotated[str, typer.Option("--variance-reduction", help=VR_HELP)] = "auto",
    target_se: Annotated[str | None, typer.Option("--target-se", help=TARGET_HELP)] = None,
    max_scenarios: Annotated[
        int, typer.Option("--max-scenarios", help="Cap of a --target-se run; the output says if the target was met.")
    ] = 10_000_000,
    components: Annotated[
        bool, typer.Option("--components/--no-components", help="Euler attribution (off: less memory for huge runs).")
    ] = True,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    equity: EquityOpt = None,
    offline: OfflineOpt = False,
    cluster: ClusterOpt = None,
    chunk: Annotated[int | None, typer.Option("--chunk", help="Scenarios per task with --cluster (mc).")] = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Value at risk and expected shortfall (positive USD losses), MC errors, Euler components.

    The book is marked at the close of --end (the last day of its history). Monte Carlo
    simulates exact buy-and-hold daily paths; a pilot picks the variance reduction. Several
    books give one row per book; one book with --cluster runs the Monte-Carlo chunks on Dask
    with the same streams and merge as in-process (the same numbers for a seed).
    """
    from astra.workflows.risk import var_options

    def options() -> dict:  # built inside the job, so a bad value is one error line like any other
        return var_options(method, dist=dist, horizon=horizon, level=level, scenarios=scenarios, seed=seed,
                           scaling=scaling, vol_model=vol_model, paths=paths, cov=cov, factors=factors,
                           antithetic=antithetic, variance_reduction=variance_reduction, target_se=target_se,
                           max_scenarios=max_scenarios if target_se is not None else None,
                           components=components)  # fmt: skip

    history_options = {"source": source, "start": start, "end": end, "window": window, "equity": equity,
                       "offline": offline}  # fmt: skip
    many_books = len(books) > 1 or any(ch in books[0] for ch in "*?[")
    if many_books or (cluster is not None and method != "mc"):

        def many():
            from astra.parallel import runner
            from astra.workflows import scale

            with runner(cluster) as pool:
                return scale.risk_var_many(books, pool, out=out, force=force, **history_options, **options())

        run(many, render_many, as_json)
        return

    from astra.workflows.risk import risk_var

    run(lambda: risk_var(books[0], out=out, force=force, cluster=cluster, chunk=chunk, **history_options,
                         **options()),
        _render_var, as_json)  # fmt: skip


@risk_app.command("stress")
def risk_stress_cmd(
    book: BookArg,
    rate: RateOpt = None,
    rate_source: RateSourceOpt = None,
    rate_shock_bp: Annotated[float, typer.Option("--rate-shock-bp", help="Benchmark shock, bp.")] = 100.0,
    groups: GroupsOpt = None,
    sector_shock: Annotated[
        float, typer.Option("--sector-shock", help="Sector move, decimal (-0.10 = -10 %).")
    ] = -0.10,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    equity: EquityOpt = None,
    offline: OfflineOpt = False,
    out: OutOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """P&L under historical windows, named episodes, hypothetical and funding shocks; reverse stress.

    The funding shock is priced at the benchmark funding uses (default a flat 4.30 %, offline).
    """
    from astra.workflows.risk import risk_stress

    def render(report) -> None:
        rows = []
        for name, r in report.table.sort_values("pnl").iterrows():
            dated = isinstance(r["start"], pd.Timestamp)
            window = f"{r['start']:%Y-%m-%d}..{r['end']:%Y-%m-%d}" if dated else ""
            rows.append([str(name), str(r["kind"]), money(r["pnl"]), f"{r['pnl_pct_gross']:+.2f}%", window])
        table(f"{report.book.name}: stress scenarios (USD, % of gross)", ["scenario", "kind", "P&L", "% gross",
              "window"], rows, left=("kind", "window"))  # fmt: skip
        rev = report.reverse
        moves = " and ".join(f"{pct(rev[side], 2)} ({side})" for side in ("down", "up") if rev.get(side) is not None)
        line(f"reverse stress ({rev['regime']}): a uniform price move of {moves or 'none within -99%..+1000%'} "
             "wipes the margin excess")  # fmt: skip
        line(f"funding shock priced at benchmark {report.benchmark_rate_source}: {report.benchmark_rate:.4%}")
        notes(report.notes)
        if report.files:
            note(", ".join(report.files), label="wrote")

    run(lambda: risk_stress(book, source=source, start=start, end=end, equity=equity, offline=offline, rate=rate,
                            rate_source=rate_source, rate_shock_bp=rate_shock_bp, groups_file=groups,
                            sector_shock=sector_shock, out=out, force=force), render, as_json)  # fmt: skip


@risk_app.command("backtest")
def risk_backtest_cmd(
    book: BookArg,
    method: MethodOpt = "hist",
    window: Annotated[int, typer.Option("--window", help="Estimation window, days.")] = 500,
    level: LevelOpt = 0.99,
    seed: SeedOpt = 0,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    equity: EquityOpt = None,
    offline: OfflineOpt = False,
    out: OutOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Rolling one-day VaR/ES forecasts vs realised P&L: Kupiec, Christoffersen, traffic light, ES Z2."""
    from astra.workflows.risk import risk_backtest

    def render(report) -> None:
        d = report.to_dict()
        line(f"{d['book']}: {d['method']} VaR {d['level']:.1%}, window {d['window']}: {d['n_exceptions']} exceptions "
             f"in {d['n_obs']} days (expected {d['expected_exceptions']:.1f})")  # fmt: skip
        line(f"Kupiec POF LR {d['kupiec_lr']:.3f} (p {d['kupiec_pvalue']:.4f}); Christoffersen independence LR "
             f"{d['independence_lr']:.3f} (p {d['independence_pvalue']:.4f}); conditional coverage p "
             f"{d['conditional_coverage_pvalue']:.4f}")  # fmt: skip
        line(f"Basel traffic light: {d['traffic_light']}; ES Z2 {num(d['es_z2'], '.3f')} "
             f"(p {num(d['es_z2_pvalue'], '.4f')})")  # fmt: skip
        if report.files:
            note(", ".join(report.files), label="wrote")

    run(lambda: risk_backtest(book, method=method, window=window, level=level, source=source, start=start, end=end,
                              equity=equity, offline=offline, seed=seed, out=out, force=force), render,
        as_json)  # fmt: skip
