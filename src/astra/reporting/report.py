"""One self-contained HTML report of a pipeline run: plotly.js inlined once, no network assets.

Every number goes through :mod:`astra.format` (via :mod:`astra.reporting.tables`), every
chart through :mod:`astra.reporting.figures`; each section opens with one sentence saying
what it shows. The file opens offline in any modern browser.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from astra import __version__
from astra import format as fmt
from astra._io import atomic_write_text
from astra.reporting import figures, tables

__all__ = ["SECTIONS", "render_report", "write_report"]

SECTIONS = ("data", "funding", "optimize", "risk", "statarb")
NOTEBOOK_TITLE = "Notebook's book (γ 0.5 daily, no bounds)"
_CONFIG = {"displaylogo": False, "responsive": True}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ASTRA report · {{ book }} · {{ generated }}</title>
<style>
 :root{--accent:#4575b4;--ink:#1f2933;--muted:#5f6b7a;--rule:#dfe3e8;--band:#f5f7fa}
 *{box-sizing:border-box}
 body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:var(--ink);background:#fff;
      line-height:1.45}
 header{background:var(--band);border-bottom:1px solid var(--rule);padding:18px 0 10px}
 .wrap{max-width:1180px;margin:0 auto;padding:0 24px}
 h1{margin:0 0 4px;font-size:26px} h2{margin:40px 0 6px;color:var(--accent);font-size:21px}
 h3{margin:22px 0 6px;font-size:15px}
 .meta{color:var(--muted);font-size:13px;margin:0}
 nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--rule);z-index:10}
 nav a{display:inline-block;padding:8px 14px 8px 0;color:var(--accent);text-decoration:none;font-size:14px}
 nav a:hover{text-decoration:underline}
 p.lead{font-size:15px;margin:0 0 10px;max-width:900px}
 p.note{color:var(--muted);font-size:13px;margin:4px 0 10px;max-width:1000px}
 p.say{font-size:14px;margin:8px 0;max-width:1000px}
 .grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px 18px;align-items:start}
 .grid > .wide{grid-column:1 / -1}
 .figure{border:1px solid var(--rule);border-radius:6px;padding:4px;min-height:120px}
 .scroll{overflow-x:auto}
 table.astra{border-collapse:collapse;font-size:13px;margin:4px 0 8px;font-variant-numeric:tabular-nums}
 table.astra th,table.astra td{border-bottom:1px solid var(--rule);padding:4px 10px;white-space:nowrap}
 table.astra thead th{background:var(--band);border-bottom:2px solid #c5ccd6;font-weight:600}
 table.astra .num{text-align:right} table.astra .text{text-align:left}
 table.astra tbody th{font-weight:600}
 table.astra tbody tr:nth-child(even){background:#fafbfc}
 table.astra tr.total th,table.astra tr.total td{font-weight:700;border-top:2px solid #9aa5b1}
 footer{margin:48px 0 30px;padding-top:10px;border-top:1px solid var(--rule);color:var(--muted);font-size:13px}
 @media (max-width:900px){.grid{grid-template-columns:1fr}}
 @media print{nav{display:none}.figure{break-inside:avoid}}
</style>
<script type="text/javascript">{{ plotly_js | safe }}</script>
</head><body>
<header><div class="wrap">
<h1>ASTRA report</h1>
<p class="meta">Book <b>{{ book }}</b> · prices: {{ source }}, {{ span }} · generated {{ generated }} ·
astra {{ version }}</p>
</div></header>
<nav><div class="wrap">{% for s in sections %}<a href="#{{ s.id }}">{{ s.title }}</a>{% endfor %}</div></nav>
<main class="wrap">
{% for s in sections %}
<section id="{{ s.id }}" data-section="{{ s.id }}"><h2>{{ s.title }}</h2>
<p class="lead">{{ s.lead }}</p>
<div class="grid">
{% for item in s["items"] %}
{% if item.kind == "table" %}<div class="wide" data-table="{{ item.id }}"><h3>{{ item.title }}</h3>
<div class="scroll">{{ item.html | safe }}</div>{% if item.note %}<p class="note">{{ item.note }}</p>{% endif %}</div>
{% elif item.kind == "text" %}<p class="say wide">{{ item.text }}</p>
{% else %}<div class="figure{% if item.wide %} wide{% endif %}" data-figure="{{ item.id }}">{{ item.html | safe }}</div>
{% endif %}
{% endfor %}
</div>
</section>
{% endfor %}
<footer>
{% if files %}<p>Exports beside this file: {{ files | join(", ") }}.</p>{% endif %}
<p>Money in US dollars with the minus sign in front (−$1,234.50 is a cost or a loss); rates, returns and weights
in percent; spreads and fees in basis points; dates are trading days (ISO). Values below a billionth of their
column's scale are solver noise and shown as zero; a dash means not applicable.</p>
</footer>
</main>
</body></html>
"""


def _table(ident: str, title: str, shown, *, text_columns=(), total_rows=(), note: str = "") -> dict[str, Any]:
    html = tables.html_table(shown, text_columns=text_columns, total_rows=total_rows)
    return {"kind": "table", "id": ident, "title": title, "html": html, "note": note}


def _figure(fig, ident: str, *, wide: bool = True) -> dict[str, Any]:
    html = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{ident}", config=_CONFIG)
    return {"kind": "figure", "id": ident, "html": html, "wide": wide}


def _text(text: str) -> dict[str, Any]:
    return {"kind": "text", "text": text}


def _data_section(result) -> dict[str, Any]:
    quality = result.data.quality
    items = [
        _figure(figures.cumulative_returns(result.data.prices), "cumulative"),
        _table(
            "cumulative",
            "Trailing buy-and-hold returns",
            tables.cumulative_table(result.cumulative),
            note="Data quality: " + quality.summary() + "." if quality is not None else "",
        ),
    ]
    return {
        "id": "data",
        "title": "Data",
        "lead": "Growth of $1 in each sample name and its trailing buy-and-hold returns: the prices every "
        "section below is computed from.",
        "items": items,
    }


def _funding_section(report) -> dict[str, Any]:
    from astra.workflows.funding import TOTAL, book_funding_frame

    c = report.carry
    return {
        "id": "funding",
        "title": "Book, funding and margin",
        "lead": f"What the client book earns or pays to finance its positions for one day ({fmt.date(c.day)}, "
        f"{c.model} prime-brokerage convention), position by position, and the margin it must hold.",
        "items": [
            _table("funding-headline", "The book at a glance", tables.funding_headline(report), text_columns=["value"]),
            _table(
                "positions",
                "Carry and margin by position",
                tables.positions_table(book_funding_frame(report)),
                total_rows=[TOTAL],
                note="Carry for the day in USD, + = the client receives (financing of the debit, interest on free "
                "credit, short rebate, borrow fee). Margin columns are each regime's requirement.",
            ),
            _figure(figures.carry_components(c), "carry-components", wide=False),
            _figure(figures.carry_positions(c), "carry-positions", wide=False),
            _text(report.comparison.get("explanation", "")),
            _figure(figures.model_comparison(report.comparison), "carry-models", wide=False),
            _figure(figures.margin_requirements(report.margin), "margin", wide=False),
        ],
    }


def _optimize_section(result, optimize: dict) -> dict[str, Any]:
    sections = result.sections["optimize"]
    fixed = optimize["corrected"]
    return {
        "id": "optimize",
        "title": "Optimiser",
        "lead": "The notebook's long/short mean-variance book beside the corrected one (shrunk covariance, position "
        "caps, trading cost and funding in the objective), the weights of each, and the corrected frontier.",
        "items": [
            _table(
                "optimize-comparison",
                "Long/short mean-variance book: notebook vs corrected",
                tables.optimizer_table(sections["comparison"]),
                note="Gross 2× equity, |net| ≤ 5 %. Notebook: γ 0.5 on daily moments, sample covariance, no position "
                "bounds, its 10 bp cost never used. Corrected: γ 5 on annual moments, Ledoit–Wolf covariance, "
                "|w| ≤ 25 %, 10 bp trading cost and cash-PB funding in the objective. Both use historical means "
                "(mostly noise), as the notebook did; both are priced by the same funding model.",
            ),
            _figure(figures.weights(optimize["notebook"].result, NOTEBOOK_TITLE), "weights-notebook", wide=False),
            _figure(figures.weights(fixed.result, "Corrected book"), "weights-corrected", wide=False),
            _figure(figures.frontier(fixed.frontier, fixed.result), "frontier"),
            _table(
                "optimize-minvar",
                "Long-only minimum-variance collateral pool: notebook vs corrected",
                tables.minvar_table(sections["minvar"]),
                note="Notebook: sample covariance, no cap. Corrected: Ledoit–Wolf, |w| ≤ 25 % (a diversified pool).",
            ),
        ],
    }


def _risk_section(risk: dict) -> dict[str, Any]:
    var_reports, stress, backtest = risk["var"], risk["stress"], risk["backtest"]
    hist = var_reports["hist"]
    level, horizon = hist.result.level, hist.result.horizon_days
    h = hist.history
    days = "one day" if horizon == 1 else f"{horizon} days"
    return {
        "id": "risk",
        "title": "Risk: VaR, ES, stress and backtests",
        "lead": f"How much today's book could lose over {days} at {fmt.pct(level, 0)} confidence, estimated four "
        "ways, what past and hypothetical stresses would do to it, and how the historical VaR would have fared "
        "day by day.",
        "items": [
            _table(
                "var",
                f"{days.capitalize()} {fmt.pct(level, 0)} VaR and expected shortfall by method",
                tables.var_table(var_reports),
                text_columns=["from"],
                note=f"Losses are positive USD; history {fmt.date(h.returns.index[0])} to "
                f"{fmt.date(h.returns.index[-1])}, shares held fixed. The standard error and 95 % interval measure "
                "the estimate's sampling error; the parametric VaR is a closed form of the fitted covariance and "
                "has none to show.",
            ),
            _figure(
                figures.pnl_distribution(
                    h.pnl, hist.result.var, hist.result.es, "Historical one-day P&L of today's book"
                ),
                "pnl-distribution",
                wide=False,
            ),
            _figure(
                figures.component_var(var_reports["param"].result.components, "Component VaR (parametric)"),
                "component-var",
                wide=False,
            ),
            _table(
                "stress",
                "Stress scenarios, worst first",
                tables.stress_table(stress.table),
                text_columns=["kind"],
                note="Historical windows and episodes replay the book's names over those dates; hypothetical shocks "
                "move prices at once; the funding scenario is one year of carry at a benchmark 100 bp higher.",
            ),
            _text(tables.reverse_stress_sentence(stress.reverse)),
            _figure(figures.stress_bars(stress.table), "stress"),
            _table(
                "backtest",
                "VaR backtest",
                tables.backtest_table(backtest.result, method=backtest.method, window=backtest.window),
                text_columns=["value"],
                note="Each day's VaR is forecast from the window before it and compared with that day's P&L. "
                "p-values below 0.05 reject the model; the traffic light is the Basel zone for this many days.",
            ),
            _figure(figures.backtest_exceptions(backtest.forecasts["pnl"], backtest.forecasts["var"]), "backtest"),
        ],
    }


def _statarb_section(statarb: dict) -> dict[str, Any]:
    scanned, daily, intraday = statarb["scan"], statarb["daily"], statarb["intraday"]
    return {
        "id": "statarb",
        "title": "Stat-arb",
        "lead": "Which pairs of sample names move together (Engle–Granger scan with false-discovery control), and "
        "what the best pair and a synthetic intraday pair would have made after costs.",
        "items": [
            _table(
                "pair-scan",
                f"Pair scan: top 15 of {fmt.count(scanned.tested)} pairs by Engle–Granger p-value",
                tables.pair_scan_table(scanned.table),
                text_columns=["y", "x"],
                note=f"{_pairs_passing(len(scanned.discoveries))} a 5 % false-discovery rate (q-value). "
                "p-values are in-sample; half-life in bars (days here).",
            ),
            _table(
                "pair-results",
                "Back-tests (Kalman hedge ratio, z-score entry and exit, net of costs)",
                tables.pair_results_table({"daily, walk-forward": daily, "synthetic 1-minute": intraday}),
                text_columns=["pair"],
                note="The daily pair is fitted before the split and traded after it (out of sample); the 1-minute "
                "pair is synthetic, labelled so. Short samples give wide Sharpe intervals.",
            ),
            _figure(figures.pair_panels(daily), "pair-daily"),
            _figure(figures.pair_panels(intraday), "pair-intraday"),
            _text("The 1-minute chart runs on trading time: nights, weekends and holidays are left out of the axis."),
        ],
    }


def _pairs_passing(n: int) -> str:
    return "No pair passes" if n == 0 else ("1 pair passes" if n == 1 else f"{fmt.count(n)} pairs pass")


def _sections(result) -> list[dict[str, Any]]:
    objs = result.objects
    sections = [_data_section(result)]
    if objs.get("funding") is not None:
        sections.append(_funding_section(objs["funding"]))
    if objs.get("optimize") is not None:
        sections.append(_optimize_section(result, objs["optimize"]))
    if objs.get("risk") is not None:
        sections.append(_risk_section(objs["risk"]))
    if objs.get("statarb") is not None:
        sections.append(_statarb_section(objs["statarb"]))
    return sections


def render_report(result) -> str:
    """The HTML text of a pipeline result (a :class:`~astra.workflows.demo.DemoResult`).

    plotly.js is inlined once in ``<head>`` (unescaped: it is code, not text), each figure
    is a ``div`` drawn by ``Plotly.newPlot``; nothing is fetched from the network.
    """
    from plotly.offline import get_plotlyjs

    prices = result.data.prices
    funding = result.objects.get("funding")
    env = Environment(autoescape=select_autoescape(default_for_string=True))
    template = env.from_string(_TEMPLATE)
    return template.render(
        plotly_js=Markup(get_plotlyjs()),
        version=__version__,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        source=result.data.meta.source,
        book=funding.book.name if funding is not None else "",
        span=f"{fmt.date(prices.index[0])} to {fmt.date(prices.index[-1])}",
        sections=_sections(result),
        files=[Path(f).name for f in result.files],
    )


def write_report(result, target: Path) -> Path:
    """Render and write ``report.html`` atomically."""
    target = Path(target)
    atomic_write_text(target, render_report(result))
    return target
