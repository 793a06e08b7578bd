"""Display tables of ASTRA results: formatted by :mod:`astra.format`, shared by the report and the dashboard.

Each builder takes a workflow result and returns a DataFrame of display strings with
readable column labels (the numbers people read, rounded the one way); :func:`html_table`
renders one as an HTML table with numbers right-aligned. Nothing here computes finance.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from astra import format as fmt

__all__ = [
    "REGIMES",
    "VAR_METHODS",
    "backtest_table",
    "cumulative_table",
    "funding_headline",
    "html_table",
    "minvar_table",
    "optimizer_table",
    "pair_results_table",
    "pair_scan_table",
    "positions_table",
    "reverse_stress_sentence",
    "stress_table",
    "var_table",
]

VAR_METHODS = {
    "hist": "historical",
    "param": "parametric",
    "fhs": "filtered historical",
    "mc": "Monte Carlo",
}
REGIMES = {"reg_t": "Reg T", "finra": "FINRA maintenance", "portfolio": "portfolio margin"}
_HORIZONS = {"1m": "1 month", "1y": "1 year", "5y": "5 years", "all": "whole sample"}


def _shown(frame: pd.DataFrame, kinds: Mapping[str, Any], labels: Mapping[str, str], **options) -> pd.DataFrame:
    shown = fmt.format_frame(frame, kinds, **options)
    return shown.rename(columns=dict(labels))


def _value_table(rows: list[tuple[str, str]], header: str = "value") -> pd.DataFrame:
    """A two-column (item, value) table of already formatted values."""
    return pd.DataFrame({header: [value for _, value in rows]}, index=pd.Index([label for label, _ in rows], name=""))


def cumulative_table(cumulative: pd.DataFrame) -> pd.DataFrame:
    """Trailing buy-and-hold returns by ticker (``+12.3%``)."""
    kinds = {c: ("pct", {"digits": 1, "signed": True}) for c in cumulative.columns}
    return _shown(cumulative, kinds, {c: _HORIZONS.get(c, c) for c in cumulative.columns})


def funding_headline(report) -> pd.DataFrame:
    """The book, its one-day carry and its margin, one formatted value per line.

    ``report`` is a :class:`~astra.workflows.funding.FundingReport`.
    """
    book, c, m = report.book, report.carry, report.margin
    source = report.benchmark_rate_source
    rows = [
        ("book", book.name),
        ("long market value", fmt.money(book.long_market_value, 0)),
        ("short market value", fmt.money(book.short_market_value, 0)),
        ("gross / net", f"{fmt.money(book.gross, 0)} / {fmt.money(book.net, 0)}"),
        ("equity", fmt.money(book.equity, 0)),
        ("leverage (gross / equity)", f"{fmt.ratio(book.leverage)}\u00d7"),
        ("carry date", f"{fmt.date(c.day)} ({c.accrual_days} day(s) accrued, {c.day_count})"),
        ("marks", report.marks),
        ("benchmark rate", f"{fmt.pct(c.benchmark_rate, 2)} ({source})"),
        (f"carry for the day ({c.model} convention)", fmt.money(c.daily_carry)),
        ("carry, annualised on gross", fmt.pct(c.annual_rate_on_gross)),
        (f"margin requirement ({REGIMES.get(m.regime, m.regime)})", fmt.money(m.requirement, 0)),
        ("margin excess" if m.excess >= 0 else "margin deficit", fmt.money(abs(m.excess), 0)),
        ("margin call", fmt.money(m.call, 0) if m.call > 0 else "none"),
    ]
    return _value_table(rows)


def positions_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-position carry and margin with the account and total rows.

    ``frame`` is :func:`astra.workflows.funding.book_funding_frame` (USD, shares, decimals).
    """
    kinds = {
        "quantity": "shares",
        "price": "money",
        "market_value": ("money", {"digits": 0}),
        "weight": ("weight", {"digits": 1}),
        "financing": "money",
        "credit_interest": "money",
        "rebate": "money",
        "borrow_fee": "money",
        "carry": "money",
        "reg_t": ("money", {"digits": 0}),
        "finra": ("money", {"digits": 0}),
        "portfolio": ("money", {"digits": 0}),
    }
    labels = {"quantity": "shares", "market_value": "market value", "weight": "weight of gross",
              "credit_interest": "credit interest", "borrow_fee": "borrow fee", "reg_t": "Reg T initial",
              "finra": "FINRA maint.", "portfolio": "portfolio margin"}  # fmt: skip
    columns = [c for c in kinds if c in frame.columns]
    return _shown(frame[columns], kinds, labels)


def optimizer_table(rows: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Notebook vs corrected book: one row per measure, one column per book."""
    frame = pd.DataFrame(rows).T
    kinds = {
        "volatility_ann": ("pct", {"digits": 1}),
        "expected_return_ann": ("pct", {"digits": 1}),
        "gross": ("ratio", {"digits": 2}),
        "net": ("weight", {"digits": 1}),
        "largest_position": ("weight", {"digits": 1}),
        "names_over_10pct": "count",
        "carry_ann": ("pct", {"digits": 2, "signed": True}),
        "trading_cost": ("pct", {"digits": 3}),
    }
    labels = {"volatility_ann": "volatility (annual)", "expected_return_ann": "expected return (annual)",
              "gross": "gross (\u00d7 equity)", "net": "net (% of equity)", "largest_position": "largest |weight|",
              "names_over_10pct": "names over 10 %", "carry_ann": "funding carry (annual, % of equity)",
              "trading_cost": "trading cost (% of equity)"}  # fmt: skip
    return _shown(frame, kinds, labels).T


def minvar_table(rows: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """The long-only minimum-variance pool, notebook vs corrected."""
    frame = pd.DataFrame(rows).T
    kinds = {"volatility_ann": ("pct", {"digits": 1}), "largest_position": ("weight", {"digits": 1}),
             "names_held": "count"}  # fmt: skip
    labels = {"volatility_ann": "volatility (annual)", "largest_position": "largest weight", "names_held": "names held"}
    return _shown(frame, kinds, labels).T


def _has_sampling_error(result) -> bool:
    se = result.mc_std_error.get("var")
    lo, hi = result.ci95.get("var", (None, None))
    return se is not None and not fmt.is_missing(se) and se > 0 and lo is not None and hi is not None and hi > lo


def var_table(reports: Mapping[str, Any]) -> pd.DataFrame:
    """VaR and ES by method; standard error and 95 % interval only where the method has them.

    ``reports`` maps a method key (``hist``, ``param``, …) to a
    :class:`~astra.workflows.risk.RiskVarReport`. The parametric method is a closed form of
    the fitted covariance: it has no sampling error to show, so its cells say so.
    """
    rows = {}
    for report in reports.values():
        r = report.result
        dist = r.params.get("dist")
        label = VAR_METHODS.get(r.method, r.method) + (f" ({dist})" if dist else "")
        if r.method == "hist":
            basis = f"{fmt.count(r.scenarios)} days"
        elif r.method == "param":
            basis = "closed form"
        else:
            basis = f"{fmt.count(r.scenarios)} scenarios"
        sampled = _has_sampling_error(r)
        lo, hi = r.ci95.get("var", (None, None))
        rows[label] = {
            "VaR": fmt.money(r.var, 0),
            "ES": fmt.money(r.es, 0),
            "VaR % of gross": fmt.pct(r.var_pct_gross, 2, points=True),
            "ES % of gross": fmt.pct(r.es_pct_gross, 2, points=True),
            "s.e. of VaR": fmt.money(r.mc_std_error["var"], 0) if sampled else fmt.MISSING,
            "95 % interval of VaR": f"{fmt.money(lo, 0)} to {fmt.money(hi, 0)}" if sampled else fmt.MISSING,
            "from": basis,
        }
    frame = pd.DataFrame(rows).T
    frame.index.name = "method"
    return frame


def stress_table(table: pd.DataFrame) -> pd.DataFrame:
    """Scenario P&L (USD and % of gross), worst first, with the window each one covers."""
    frame = table.sort_values("pnl")
    kinds = {"kind": "text", "pnl": ("money", {"digits": 0}), "start": "date", "end": "date", "days": "count",
             "pnl_pct_gross": ("pct_pts", {"digits": 1, "signed": True})}  # fmt: skip
    labels = {"pnl": "P&L", "pnl_pct_gross": "% of gross", "start": "from", "end": "to"}
    order = ["kind", "pnl", "pnl_pct_gross", "start", "end", "days"]
    shown = _shown(frame[[c for c in order if c in frame.columns]], kinds, labels)
    shown.index = pd.Index([str(name).replace("_", " ") for name in shown.index], name="scenario")
    return shown


def reverse_stress_sentence(reverse: Mapping[str, Any]) -> str:
    """The reverse stress as a sentence, e.g. "A uniform rise of 8.1 % in every price…"."""
    regime = REGIMES.get(reverse.get("regime"), str(reverse.get("regime")))
    excess = reverse.get("excess_now")
    if reverse.get("note"):
        return f"Reverse stress ({regime}): {reverse['note']}."
    moves = []
    for side, verb in (("down", "fall"), ("up", "rise")):
        move = reverse.get(side)
        if move is None:
            moves.append(f"no uniform {verb} within the tested range breaches it")
        else:
            moves.append(f"a uniform {verb} of {fmt.pct(abs(move), 1)} in every price wipes it out")
    return f"Reverse stress ({regime}): the margin excess is {fmt.money(excess, 0)} today; " + "; ".join(moves) + "."


def backtest_table(result, *, method: str = "hist", window: int | None = None) -> pd.DataFrame:
    """The VaR backtest's counts and tests, each value formatted for its own meaning."""
    rows = [
        ("days tested", fmt.count(result.n_obs)),
        ("exceptions (loss beyond VaR)", fmt.count(result.n_exceptions)),
        ("expected at the VaR level", fmt.ratio(result.expected_exceptions, 1)),
        ("Kupiec coverage p-value", fmt.ratio(result.kupiec_pvalue, 3)),
        ("Christoffersen independence p-value", fmt.ratio(result.independence_pvalue, 3)),
        ("conditional coverage p-value", fmt.ratio(result.conditional_coverage_pvalue, 3)),
        ("Basel traffic light", str(result.traffic_light)),
    ]
    if result.es_z2 is not None:
        rows.append(("Acerbi–Szekely Z2 (ES)", f"{fmt.ratio(result.es_z2, 3)} (p {fmt.ratio(result.es_z2_pvalue, 3)})"))
    if window is not None:
        rows.insert(0, ("forecast", f"{VAR_METHODS.get(method, method)}, rolling {window}-day window"))
    return _value_table(rows)


def pair_scan_table(table: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """The first ``top`` rows of a pair scan, ranked from 1."""
    frame = table.head(top).reset_index(drop=True)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="rank")
    kinds = {"y": "text", "x": "text", "eg_stat": ("ratio", {"digits": 2}), "p_value": ("ratio", {"digits": 4}),
             "q_value": ("ratio", {"digits": 3}), "beta": ("ratio", {"digits": 3}),
             "half_life_bars": ("ratio", {"digits": 1}), "spread_vol": ("ratio", {"digits": 4})}  # fmt: skip
    labels = {"eg_stat": "Engle–Granger t", "p_value": "p-value", "q_value": "q-value (FDR)", "beta": "β",
              "half_life_bars": "half-life (bars)", "spread_vol": "spread s.d."}  # fmt: skip
    return _shown(frame[[c for c in kinds if c in frame.columns]], kinds, labels)


def pair_results_table(reports: Mapping[str, Any]) -> pd.DataFrame:
    """Back-test outcome of each pair run (label → :class:`~astra.workflows.statarb.StatarbReport`)."""
    rows = {}
    for label, report in reports.items():
        d = report.to_dict()
        lo, hi = d["sharpe_ci95"]
        rows[label] = {
            "pair": f"{report.pair[1]} / {report.pair[0]}",
            "bars": fmt.count(d["bars"]),
            "trades": fmt.count(d["trades"]),
            "total return": fmt.pct(d["total_return"], 2, signed=True),
            "Sharpe (annual)": fmt.ratio(d["sharpe_ann"]),
            "Sharpe 95 % interval": f"{fmt.ratio(lo)} to {fmt.ratio(hi)}",
            "max drawdown": fmt.pct(d["max_drawdown"], 1),
            "hit rate": fmt.pct(d["hit_rate"], 0),
            "trading costs": fmt.money(d["costs"], 0),
            "funding": fmt.money(d["borrow"], 0),
        }
    frame = pd.DataFrame(rows).T
    frame.index.name = "run"
    return frame


def html_table(shown: pd.DataFrame, *, text_columns: Iterable[str] = (), total_rows: Iterable[str] = ()) -> str:
    """An HTML ``<table class="astra">`` of display strings; numbers right-aligned, text left.

    Parameters
    ----------
    shown : pandas.DataFrame
        Display strings (from the builders above or :func:`astra.format.format_frame`).
    text_columns : iterable of str
        Columns aligned left (names, kinds, pairs); every other column is numeric.
    total_rows : iterable of str
        Index labels drawn as totals (bold, ruled above).
    """
    text_columns, total_rows = set(text_columns), set(total_rows)
    head_index = html.escape(str(shown.index.name or ""))
    header = "".join(
        f'<th class="{"text" if c in text_columns else "num"}">{html.escape(str(c))}</th>' for c in shown.columns
    )
    body = []
    for label, row in shown.iterrows():
        cls = ' class="total"' if label in total_rows else ""
        cells = "".join(
            f'<td class="{"text" if c in text_columns else "num"}">{html.escape(str(v))}</td>' for c, v in row.items()
        )
        body.append(f'<tr{cls}><th class="text" scope="row">{html.escape(str(label))}</th>{cells}</tr>')
    return (
        f'<table class="astra"><thead><tr><th class="text">{head_index}</th>{header}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
