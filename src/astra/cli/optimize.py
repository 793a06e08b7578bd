"""``astra optimize``: funding-aware long/short construction under prime-brokerage limits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from astra.cli._app import app
from astra.cli._common import (
    AlignOpt,
    EndOpt,
    EquityOpt,
    FactorsOpt,
    ForceOpt,
    GroupsOpt,
    JsonOpt,
    MinOverlapOpt,
    ModelOpt,
    OfflineOpt,
    OutOpt,
    RateOpt,
    RateSourceOpt,
    SourceOpt,
    StartOpt,
    line,
    money,
    note,
    notes,
    pct,
    run,
    shares,
    table,
)

COV_HELP = "Covariance estimator: sample | lw | ewma | factor | csv:PATH (square, labelled by ticker)"
TC_HELP = "Linear trading cost, bp of traded notional (default: 10 on the trades from --book; none without a book)."


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.replace(",", " ").split()]
    except ValueError:
        from astra.errors import InputError

        raise InputError(f"{name} {text!r}: give numbers separated by commas") from None


def _render(report) -> None:
    r = report.result
    rows = (
        [t, pct(w.weight, 2), shares(w.shares), money(w.value)]
        for t, w in report.to_frame().iterrows()
        if abs(w.weight) > 1e-6
    )
    table(f"{report.inputs['problem']} on {report.inputs['source']} {report.inputs['start']}..{report.inputs['end']} "
          f"({r.solver}, {r.solve_ms:.0f} ms)", ["ticker", "weight", "shares", "value"], rows)  # fmt: skip
    line(f"gross {r.gross:.3f}  net {r.net:+.4f}  volatility {r.volatility_ann:.2%}/yr  expected return "
         f"{r.expected_return_ann:+.2%}/yr")  # fmt: skip
    charged = [f"{r.tc_bps:g} bp" if r.tc_bps else "", "market impact" if report.inputs.get("market_impact") else ""]
    basis = "none charged" if r.trading_cost_basis == "none" else f"{' + '.join(filter(None, charged))} on the "
    basis += "" if r.trading_cost_basis == "none" else r.trading_cost_basis
    line(f"carry {r.carry_ann:+.3%}/yr  trading cost {r.trading_cost:.4%} ({basis})  turnover {r.turnover:.3f}")
    line(f"binding: {', '.join(r.binding) or 'none'}")
    for point in report.frontier:
        line(f"  γ={point['gamma']:g}: vol {point['volatility_ann']:.2%}, return {point['expected_return_ann']:+.2%}")
    notes(report.notes)
    if getattr(report, "files", ()):
        note(", ".join(report.files), label="wrote")


@app.command()
def optimize(
    tickers: Annotated[list[str] | None, typer.Argument(help="More universe tickers.", show_default=False)] = None,
    problem: Annotated[str, typer.Option("--problem", help="minvar | meanvar | maxret")] = "meanvar",
    universe: Annotated[str | None, typer.Option("--universe", help="Tickers (space- or comma-separated).")] = None,
    book: Annotated[Path | None, typer.Option("--book", help="Start from this book (turnover, terms).")] = None,
    source: SourceOpt = "sample",
    start: StartOpt = None,
    end: EndOpt = None,
    cov: Annotated[str, typer.Option("--cov", help=COV_HELP)] = "lw",
    cov_units: Annotated[str, typer.Option("--cov-units", help="Units of a --cov csv:PATH file: daily | annual")] = (
        "daily"
    ),
    factors: FactorsOpt = 8,
    half_life: Annotated[float, typer.Option("--half-life", help="EWMA half-life, days.")] = 63.0,
    mu: Annotated[str | None, typer.Option("--mu", help="zero | hist (default hist for meanvar/maxret)")] = None,
    alphas_file: Annotated[Path | None, typer.Option("--alphas", help="CSV ticker,alpha (annual decimals).")] = None,
    gross: Annotated[
        float, typer.Option("--gross", help="Gross limit, × equity (long-only: also the invested fraction).")
    ] = 2.0,
    net: Annotated[str | None, typer.Option("--net", help="Net band: 0.05 (±) or lo:hi.")] = None,
    max_weight: Annotated[
        float | None, typer.Option("--max-weight", help="|w| per name, × equity (default 1 for minvar, else 0.25).")
    ] = None,
    long_only: Annotated[
        bool, typer.Option("--long-only", help="No shorts; fully invested unless --gross < 1 or --net says otherwise.")
    ] = False,
    gamma: Annotated[float, typer.Option("--gamma", help="Risk aversion on annual variance.")] = 5.0,
    vol_target: Annotated[
        float | None,
        typer.Option("--vol-target", help="Annual volatility cap (decimal); maxret: the maximum return at it."),
    ] = None,
    return_target: Annotated[
        float | None,
        typer.Option(
            "--return-target", help="Minimum expected annual return (decimal); minvar: the least risk for it."
        ),
    ] = None,
    beta_band: Annotated[str | None, typer.Option("--beta-band", help="Beta band vs --market, e.g. 0.1")] = None,
    market: Annotated[str, typer.Option("--market", help="The market series betas are measured against.")] = "SP500",
    groups_file: GroupsOpt = None,
    group_net: Annotated[float, typer.Option("--group-net", help="Max |net| per group.")] = 0.10,
    locates_file: Annotated[Path | None, typer.Option("--locates", help="CSV ticker,shares (max short).")] = None,
    adv_file: Annotated[Path | None, typer.Option("--adv", help="CSV ticker,adv_usd: enables market impact.")] = None,
    impact: Annotated[float, typer.Option("--impact", help="Market-impact coefficient with --adv.")] = 1.0,
    turnover: Annotated[float | None, typer.Option("--turnover", help="Max Σ|w − w_book|.")] = None,
    tc_bps: Annotated[float | None, typer.Option("--tc-bps", help=TC_HELP)] = None,
    rate: RateOpt = None,
    rate_source: RateSourceOpt = None,
    funding_model: ModelOpt = None,
    equity: EquityOpt = None,
    lot: Annotated[int, typer.Option("--lot", help="Round shares to this lot.")] = 1,
    gammas: Annotated[str | None, typer.Option("--frontier", help="γ values to sweep, e.g. 1,2,5,10")] = None,
    align: AlignOpt = "common",
    min_overlap: MinOverlapOpt = 60,
    out: OutOpt = None,
    force: ForceOpt = False,
    offline: OfflineOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Funding-aware long/short construction under PB limits (weights × equity, shares in lots).

    Funding carry enters the objective only when --rate or --rate-source is given.
    """
    from astra import workflows
    from astra.workflows.book import open_book
    from astra.workflows.common import write_exports

    def job():
        names = [*(universe or "").replace(",", " ").split(), *(tickers or [])]
        opened = open_book(book, source=source, on=end, equity=equity, offline=offline).book if book else None
        report = workflows.optimize_portfolio(
            problem=problem, universe=names, book=opened, source=source, start=start, end=end, cov=cov,
            factors=factors, half_life=half_life, mu=mu, alphas_file=alphas_file, gross=gross, net=net,
            max_weight=max_weight, long_only=long_only, gamma=gamma, vol_target=vol_target,
            return_target=return_target, beta_band=beta_band, market=market, groups_file=groups_file,
            group_net=group_net, locates_file=locates_file, adv_file=adv_file, impact=impact, cov_units=cov_units,
            turnover=turnover, tc_bps=tc_bps, rate=rate, rate_source=rate_source, funding_model=funding_model,
            equity=equity, lot=lot, gammas=_floats(gammas, "gammas"), offline=offline, align=align,
            min_overlap=min_overlap,
        )  # fmt: skip
        frame = report.to_frame()
        names = ("optimized_weights.csv", "optimized_weights.parquet")
        write_exports(out, dict.fromkeys(names, frame), force=force, job="optimize", noise=dict.fromkeys(names, 1e-9))
        return report

    run(job, _render, as_json)
