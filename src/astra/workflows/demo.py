"""``astra demo``: the whole pipeline on the offline sample."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra._io import output_dir
from astra.data import PriceData, load_prices, returns
from astra.data.providers.sample import MARKET_TICKER, sample_tickers
from astra.funding import FundingTerms, carry_of_values
from astra.optimize import NoisyMeanWarning
from astra.statarb import scan
from astra.workflows.book import BookInput
from astra.workflows.common import cumulative_returns, usd, write_frame
from astra.workflows.funding import book_funding_frame, funding_report, funding_text
from astra.workflows.optimize import optimize_portfolio
from astra.workflows.risk import risk_backtest, risk_stress, risk_var
from astra.workflows.statarb import statarb_run

__all__ = ["DEMO_RATE", "DEMO_TICKERS", "SAMPLE_BOOK", "DemoResult", "run_demo"]

SAMPLE_BOOK = Path(__file__).parents[1] / "examples" / "book.toml"
DEMO_RATE = 0.043
DEMO_TICKERS = ("AAPL", "MSFT", "AMD", "JPM", "BAC", "XOM", "CVX", "JNJ", "PG", "WMT")
WEIGHT_NOISE = 1e-9  # |w| below this is solver noise, exported as 0


@dataclass(frozen=True)
class DemoResult:
    """What ``astra demo`` produced."""

    data: PriceData
    cumulative: pd.DataFrame
    files: tuple[str, ...]
    sections: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict, repr=False)  # result objects, for figures

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


def run_demo(
    out_dir: str | Path = "astra-out",
    *,
    tickers=DEMO_TICKERS,
    start="2015-01-01",
    book: BookInput | None = None,
    source: str = "sample",
    equity: float | None = None,
    force: bool = False,
) -> DemoResult:
    """The whole pipeline; writes the exports and ``report.html`` into ``out_dir``.

    ``book`` (a path, :class:`~astra.workflows.book.BookText` or :class:`~astra.Book`;
    default the sample client book) is marked at the latest close ``source`` has and gets
    its risk history from ``source``; the optimiser and stat-arb sections always use the
    offline sample. Nothing touches the network unless ``source`` does. Everything is
    computed first, then the whole set is swapped into ``out_dir`` at once
    (:func:`astra._io.output_dir`): a bad book or a failed step writes nothing, and a file
    ASTRA did not write there is never replaced unless ``force``.
    """
    client = book if book is not None else SAMPLE_BOOK
    data = load_prices([*tickers, MARKET_TICKER], "sample", start=start)
    daily = returns(data.prices)
    cumulative = cumulative_returns(data.prices)
    report = funding_report(client, rate=DEMO_RATE, source=source, equity=equity)
    sections = {"funding": {**report.to_dict(), "text": funding_text(report)}}
    objects: dict[str, Any] = {"funding": report}
    risk = _risk_section(client, source, equity)
    objects["risk"] = risk.pop("reports")
    stress_table = risk.pop("stress_table")
    sections["risk"] = risk
    optimized = _optimizer_section(tickers, start)
    objects["optimize"] = optimized.pop("reports")
    weights = optimized.pop("frame")
    sections["optimize"] = optimized
    pairs = _statarb_section(start)
    objects["statarb"] = pairs.pop("reports")
    signals, scan_table = pairs.pop("signals"), pairs.pop("scan_table")
    sections["statarb"] = pairs
    exports = {
        "prices.parquet": data.prices,
        "returns.csv": daily,
        "book_funding.csv": book_funding_frame(report),
        "stress_scenarios.csv": stress_table,
        "stress_scenarios.parquet": stress_table,
        "optimized_weights.csv": weights,
        "optimized_weights.parquet": weights,
        "kalman_signals.csv": signals,
        "kalman_signals.parquet": signals,
        "pair_scan.csv": scan_table,
    }
    noise = {"optimized_weights.csv": WEIGHT_NOISE, "optimized_weights.parquet": WEIGHT_NOISE}
    out = Path(out_dir)
    names = [*exports, "report.html"]
    result = DemoResult(data=data, cumulative=cumulative, files=tuple(str(out / n) for n in names),
                        sections=sections, objects=objects)  # fmt: skip
    from astra.reporting import render_report

    html = render_report(result)
    with output_dir(out, force=force, files=names, job="report", what="out") as stage:
        for name, frame in exports.items():
            write_frame(frame, stage / name, abs_tol=noise.get(name, 0.0))
        (stage / "report.html").write_text(html, encoding="utf-8")
    return result


def _optimizer_section(tickers, start) -> dict[str, Any]:
    """The notebook's long/short mean-variance book next to the corrected one."""
    common = {"problem": "meanvar", "universe": list(tickers), "source": "sample", "start": start, "mu": "hist"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoisyMeanWarning)  # the comparison is the point; the text says it
        # The notebook: γ·wᵀΣw on daily moments with γ = 0.5 is γ = 1 on annual moments in our
        # (γ/2) convention; sample covariance, no position bounds, its 10 bp cost never used.
        seed = optimize_portfolio(**common, cov="sample", gamma=1.0, max_weight=2.0, tc_bps=0.0)
        fixed = optimize_portfolio(
            **common, cov="lw", gamma=5.0, max_weight=0.25, tc_bps=10.0, rate=DEMO_RATE, gammas=[1, 2, 5, 10, 20, 50]
        )
    # The notebook's other problem: the long-only minimum-variance "collateral pool".
    pool = {"problem": "minvar", "universe": list(tickers), "source": "sample", "start": start, "long_only": True}
    pool_seed = optimize_portfolio(**pool, cov="sample", max_weight=1.0, tc_bps=0.0)
    pool_fixed = optimize_portfolio(**pool, cov="lw", max_weight=0.25, tc_bps=0.0)
    minvar = {
        label: {
            "volatility_ann": r.result.volatility_ann,
            "largest_position": float(r.result.weights.max()),
            "names_held": int((r.result.weights > 1e-4).sum()),
        }
        for label, r in (("notebook", pool_seed), ("corrected", pool_fixed))
    }
    rows = {}
    rates = FundingTerms().annual_rates(DEMO_RATE, seed.result.tickers)
    for label, report in (("notebook", seed), ("corrected", fixed)):
        r = report.result
        equity = r.equity
        # Both books priced by the same funding model (the notebook left carry out of its objective).
        carry_ann = carry_of_values(r.weights * equity, equity, rates, "cash", days=360) / equity
        rows[label] = {
            "volatility_ann": r.volatility_ann,
            "expected_return_ann": r.expected_return_ann,
            "gross": r.gross,
            "net": r.net,
            "largest_position": float(np.abs(r.weights).max()),
            "names_over_10pct": int((np.abs(r.weights) > 0.10).sum()),
            "carry_ann": carry_ann,
            "trading_cost": r.trading_cost,
        }
    frame = pd.DataFrame({"notebook": seed.result.weights, "corrected": fixed.result.weights}, index=list(tickers))
    frame.index.name = "ticker"
    text = "\n".join(
        [
            "Long/short mean-variance (gross 2, |net| <= 5 %, historical means: noise, shown as the notebook did):",
            *(
                f"  {label:9s}: vol {row['volatility_ann']:.1%}/yr, largest position {row['largest_position']:.0%}, "
                f"{row['names_over_10pct']} names over 10 %, gross {row['gross']:.2f}, carry {row['carry_ann']:+.2%}/yr"
                for label, row in rows.items()
            ),
            "  notebook = gamma 0.5 on daily moments, sample covariance, no bounds; corrected = gamma 5 on annual "
            "moments, Ledoit-Wolf, |w| <= 25 %, 10 bp trading cost and cash-PB funding in the objective",
            "Long-only minimum-variance collateral pool:",
            *(
                f"  {label:9s}: vol {row['volatility_ann']:.1%}/yr, {row['names_held']} names, largest "
                f"{row['largest_position']:.0%}"
                for label, row in minvar.items()
            ),
            "  notebook = sample covariance, no cap; corrected = Ledoit-Wolf, |w| <= 25 % (diversified collateral)",
        ]
    )
    return {
        "comparison": rows,
        "minvar": minvar,
        "frontier": fixed.frontier,
        "text": text,
        "frame": frame,
        "reports": {"notebook": seed, "corrected": fixed},
    }


def _statarb_section(start) -> dict[str, Any]:
    """The sample's pair scan, its top pair traded walk-forward, and the offline intraday pair."""
    universe = [t for t in sample_tickers() if t != MARKET_TICKER]
    data = load_prices(universe, "sample", start=start)
    scanned = scan(data.prices, fdr=0.05)
    top = scanned.table.iloc[0]
    split = data.prices.index[int(len(data.prices) * 0.6)].date().isoformat()
    daily = statarb_run(top.x, top.y, source="sample", start=start, model="kalman2", split=split, rate=DEMO_RATE)
    intraday = statarb_run("C", "JPM", source="synthetic", interval="1m", model="kalman3", cost_bps=1.0)
    lines = [
        f"Pair scan of {len(universe)} sample names ({scanned.tested} pairs): "
        f"{len(scanned.discoveries)} pass a 5 % false-discovery rate; best {top.y}/{top.x} "
        f"(EG p = {top.p_value:.4f}, q = {top.q_value:.3f}, half-life {top.half_life_bars:.0f} days)",
    ]
    for label, report in (("walk-forward daily, out of sample from " + split, daily), ("synthetic 1-minute", intraday)):
        d = report.to_dict()
        lo, hi = d["sharpe_ci95"]
        lines.append(
            f"  {label}: {report.pair[1]}/{report.pair[0]} {d['trades']} trades, return {d['total_return']:+.2%}, "
            f"Sharpe {d['sharpe_ann']:.2f} (95 % CI {lo:.2f} to {hi:.2f}), costs ${d['costs']:,.0f}"
        )
    lines.append("  (short samples give wide Sharpe intervals; the scan's p-values are in-sample)")
    return {
        "scan": {"pairs_tested": scanned.tested, "discoveries": len(scanned.discoveries), "top": top.to_dict()},
        "daily": daily.to_dict(),
        "intraday": intraday.to_dict(),
        "text": "\n".join(lines),
        "signals": intraday.signals,
        "scan_table": scanned.table.reset_index(drop=True).set_axis(
            pd.RangeIndex(1, len(scanned.table) + 1, name="rank")
        ),
        "reports": {"scan": scanned, "daily": daily, "intraday": intraday},
    }


def _risk_section(client, source: str = "sample", equity: float | None = None) -> dict[str, Any]:
    """VaR/ES four ways on the client book, stress scenarios and a VaR backtest."""
    start = "2015-01-01"
    common = {"start": start, "source": source, "equity": equity}
    reports = {
        "param": risk_var(client, method="param", **common),
        "hist": risk_var(client, method="hist", **common),
        "fhs": risk_var(client, method="fhs", scenarios=50_000, seed=11, **common),
        "mc": risk_var(client, method="mc", dist="t", scenarios=100_000, seed=7, **common),
    }
    stress = risk_stress(client, rate=DEMO_RATE, source=source, equity=equity)
    backtest = risk_backtest(client, method="hist", window=250, seed=0, **common)
    book = stress.book
    b = backtest.result
    lines = [f"One-day 99 % VaR / ES of the book {book.name} (gross ${book.gross:,.0f}), history from {start}:"]
    for name, report in reports.items():
        r = report.result
        se = r.mc_std_error.get("var")
        error = f" (s.e. ${se:,.0f})" if se and name != "param" else ""  # a closed form has no sampling error
        lines.append(f"  {name:5s}: VaR ${r.var:,.0f}{error}, ES ${r.es:,.0f} ({r.var_pct_gross:.2f}% of gross)")
    worst = stress.table["pnl"].idxmin()
    reverse = stress.reverse
    lines.append(
        f"Worst stress: {worst} {usd(stress.table.loc[worst, 'pnl'], 0)}; reverse stress (uniform move wiping "
        f"the margin excess): up {_pct(reverse.get('up'))}, down {_pct(reverse.get('down'))}"
    )
    lines.append(
        f"Backtest (hist, 250-day window): {b.n_exceptions} exceptions in {b.n_obs} days (expected "
        f"{b.expected_exceptions:.1f}), Kupiec p {b.kupiec_pvalue:.3f}, Christoffersen p {b.independence_pvalue:.3f}, "
        f"traffic light {b.traffic_light}"
    )
    return {
        "var": {name: report.to_dict() for name, report in reports.items()},
        "stress": stress.to_dict(),
        "backtest": backtest.to_dict(),
        "text": "\n".join(lines),
        "stress_table": stress.table,
        "reports": {"var": reports, "stress": stress, "backtest": backtest},
    }


def _pct(value) -> str:
    return "none within range" if value is None else f"{value:+.1%}"
