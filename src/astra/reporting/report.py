"""One self-contained HTML report of a pipeline run: plotly embedded once, no network assets."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape

from astra import __version__
from astra._io import atomic_write_text
from astra.reporting import figures

__all__ = ["SECTIONS", "render_report", "write_report"]

SECTIONS = ("data", "funding", "optimize", "risk", "statarb")
NOTEBOOK_TITLE = "Notebook's book (γ 0.5 daily, no bounds)"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ASTRA report {{ generated }}</title>
<style>
 body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1180px;
      padding:0 24px;color:#222}
 h1{border-bottom:2px solid #4575b4;padding-bottom:6px} h2{margin-top:42px;color:#4575b4}
 table.astra{border-collapse:collapse;font-size:13px;margin:10px 0}
 table.astra td,table.astra th{border:1px solid #ddd;padding:3px 8px;text-align:right}
 table.astra th{background:#f3f6fa} .note{color:#555;font-size:13px}
 pre{background:#f7f7f7;padding:10px;white-space:pre-wrap}
 nav a{margin-right:14px}
</style>
<script type="text/javascript">{{ plotly_js }}</script>
</head><body>
<h1>ASTRA report</h1>
<p class="note">astra {{ version }} · generated {{ generated }} · source: {{ source }} · {{ span }}</p>
<nav>{% for s in sections %}<a href="#{{ s.id }}">{{ s.title }}</a>{% endfor %}</nav>
{% for s in sections %}
<section id="{{ s.id }}" data-section="{{ s.id }}"><h2>{{ s.title }}</h2>
{% if s.text %}<pre>{{ s.text }}</pre>{% endif %}
{% for t in s.tables %}<h3>{{ t.title }}</h3>{{ t.html | safe }}{% endfor %}
{% for f in s.figures %}<div class="figure" data-figure="{{ f.id }}">{{ f.html | safe }}</div>{% endfor %}
</section>
{% endfor %}
</body></html>
"""


def _table(frame: pd.DataFrame, title: str, floatfmt: str = "{:,.4g}") -> dict:
    def fmt(value):
        if isinstance(value, float):
            return floatfmt.format(value)
        return value

    shown = frame.map(fmt) if hasattr(frame, "map") else frame
    return {"title": title, "html": shown.to_html(classes="astra", border=0, escape=True)}


def _figure(fig, ident: str) -> dict:
    return {"id": ident, "html": fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{ident}")}


def _sections(result) -> list[dict]:
    objs = result.objects
    sections = []
    quality = result.data.quality
    sections.append(
        {
            "id": "data",
            "title": "Data",
            "text": quality.summary() if quality is not None else "",
            "tables": [_table(result.cumulative, "Cumulative buy-and-hold returns", "{:+.1%}")],
            "figures": [_figure(figures.cumulative_returns(result.data.prices), "cumulative")],
        }
    )
    funding = objs.get("funding")
    if funding is not None:
        sections.append(
            {
                "id": "funding",
                "title": "Book, funding and margin",
                "text": result.sections.get("funding", {}).get("text", ""),
                "tables": [
                    _table(funding.book.to_frame(), "Positions"),
                    _table(funding.carry.to_frame(), "Daily carry by position (USD, + = client receives)"),
                    _table(funding.margin.to_frame(), "Margin requirement by position (USD)"),
                ],
                "figures": [
                    _figure(figures.carry_components(funding.carry), "carry-components"),
                    _figure(figures.carry_positions(funding.carry), "carry-positions"),
                    _figure(figures.model_comparison(funding.comparison), "carry-models"),
                    _figure(figures.margin_requirements(funding.margin), "margin"),
                ],
            }
        )
    optimize = objs.get("optimize")
    if optimize is not None:
        comparison = pd.DataFrame(result.sections["optimize"]["comparison"])
        fixed = optimize["corrected"]
        sections.append(
            {
                "id": "optimize",
                "title": "Optimiser",
                "text": result.sections["optimize"]["text"],
                "tables": [
                    _table(comparison, "Notebook vs corrected mean-variance book"),
                    _table(
                        pd.DataFrame(result.sections["optimize"]["minvar"]),
                        "Notebook vs corrected long-only minimum-variance collateral pool",
                    ),
                ],
                "figures": [
                    _figure(figures.weights(optimize["notebook"].result, NOTEBOOK_TITLE), "weights-notebook"),
                    _figure(figures.weights(fixed.result, "Corrected book"), "weights-corrected"),
                    _figure(figures.frontier(fixed.frontier, fixed.result), "frontier"),
                ],
            }
        )
    risk = objs.get("risk")
    if risk is not None:
        sections.append(_risk(result, risk))
    statarb = objs.get("statarb")
    if statarb is not None:
        scan_table = statarb["scan"].table.head(15).set_index(["y", "x"])
        sections.append(
            {
                "id": "statarb",
                "title": "Stat-arb",
                "text": result.sections["statarb"]["text"],
                "tables": [_table(scan_table, "Pair scan: top 15 by Engle–Granger p-value")],
                "figures": [
                    _figure(figures.pair_panels(statarb["daily"]), "pair-daily"),
                    _figure(figures.pair_panels(statarb["intraday"]), "pair-intraday"),
                ],
            }
        )
    return sections


def _risk(result, risk: dict) -> dict:
    var_reports, stress, backtest = risk["var"], risk["stress"], risk["backtest"]
    summary = pd.DataFrame(
        {
            name: {
                "VaR": r.result.var,
                "ES": r.result.es,
                "VaR % gross": r.result.var_pct_gross,
                "s.e. (VaR)": r.result.mc_std_error.get("var"),
            }
            for name, r in var_reports.items()
        }
    ).T
    hist = var_reports["hist"]
    stress_table = stress.table[["kind", "pnl", "pnl_pct_gross"]]
    bt = backtest.result
    tests = pd.DataFrame(
        {
            "value": [
                bt.n_obs,
                bt.n_exceptions,
                bt.expected_exceptions,
                bt.kupiec_pvalue,
                bt.independence_pvalue,
                bt.conditional_coverage_pvalue,
                bt.traffic_light,
                bt.es_z2,
            ]
        },
        index=[
            "days",
            "exceptions",
            "expected",
            "Kupiec p",
            "independence p",
            "conditional coverage p",
            "traffic light",
            "ES Z2",
        ],
    )
    forecasts = backtest.forecasts
    return {
        "id": "risk",
        "title": "Risk: VaR, ES, stress and backtests",
        "text": result.sections.get("risk", {}).get("text", ""),
        "tables": [
            _table(summary, "One-day 99 % VaR and ES by method (USD)"),
            _table(stress_table, "Stress scenarios (USD, % of gross)"),
            _table(tests, "VaR backtest"),
        ],
        "figures": [
            _figure(
                figures.pnl_distribution(
                    hist.history.pnl, hist.result.var, hist.result.es, "Historical one-day P&L of today's book"
                ),
                "pnl-distribution",
            ),
            _figure(
                figures.component_var(var_reports["param"].result.components, "Component VaR (parametric)"),
                "component-var",
            ),
            _figure(figures.stress_bars(stress.table), "stress"),
            _figure(figures.backtest_exceptions(forecasts["pnl"], forecasts["var"]), "backtest"),
        ],
    }


def render_report(result) -> str:
    """The HTML text of a pipeline result (a :class:`~astra.workflows.demo.DemoResult`)."""
    from plotly.offline import get_plotlyjs

    prices = result.data.prices
    env = Environment(autoescape=select_autoescape(default_for_string=True))
    template = env.from_string(_TEMPLATE)
    return template.render(
        plotly_js=get_plotlyjs(),
        version=__version__,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        source=html.escape(result.data.meta.source),
        span=f"{prices.index[0].date()} to {prices.index[-1].date()}",
        sections=_sections(result),
    )


def write_report(result, target: Path) -> Path:
    """Render and write ``report.html`` atomically."""
    target = Path(target)
    atomic_write_text(target, render_report(result))
    return target
