"""Plotly figures built from ASTRA result objects; the dashboard and the HTML report share them.

Every function takes a result (or a frame) and returns a ``plotly.graph_objects.Figure``;
nothing here computes finance, it only draws what the engines returned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from astra import format as fmt

__all__ = [
    "backtest_exceptions",
    "carry_components",
    "carry_positions",
    "component_var",
    "cumulative_returns",
    "frontier",
    "margin_requirements",
    "model_comparison",
    "pair_panels",
    "pnl_distribution",
    "rate_series",
    "stress_bars",
    "trading_time_axis",
    "weights",
]

LONG, SHORT, NEUTRAL = "#1a9850", "#d73027", "#4575b4"
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 40}, "height": 380}


_RATE_PAD = 0.0010  # a flat or nearly flat rate is drawn ±10 bp around its level
_USD = {"tickformat": "$,.0f"}  # d3: −$1,234 (sign before the symbol), as astra.format writes money


def _fig(title: str, **layout) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **{**_LAYOUT, **layout})
    return fig


def _is_intraday(index) -> bool:
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return False
    return bool(np.median(np.diff(index.as_unit("ns").asi8)) < pd.Timedelta(days=1).value)


def _wall_clock(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Exchange-local wall-clock stamps without a zone (plotly.js ignores UTC offsets anyway)."""
    return index.tz_localize(None) if index.tz is not None else index


def trading_time_axis(fig: go.Figure, index: pd.DatetimeIndex) -> go.Figure:
    """Hide every stretch of the x-axis with no bars (nights, weekends, holidays, early closes).

    For intraday ``index`` (median bar spacing under a day), each gap longer than 1.5 bar
    spacings becomes a plotly rangebreak that starts one bar after the last bar before it
    and ends at the next bar, so the axis shows trading time only: ``n`` bars span ``n − 1``
    spacings. Gaps of the same length share one rangebreak (``values`` + ``dvalue``).
    Daily or shorter series are left as they are. The traces must use wall-clock x values
    (:func:`_wall_clock`), as the figures here do.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Figure whose x-axes (all of them, for subplots) get the breaks.
    index : pandas.DatetimeIndex
        The bars' time stamps, sorted.
    """
    if not _is_intraday(index):
        return fig
    stamps = _wall_clock(index).as_unit("ns").asi8
    steps = np.diff(stamps)
    spacing = int(np.median(steps))
    gaps = np.flatnonzero(steps > 1.5 * spacing)
    by_length: dict[int, list[str]] = {}
    for i in gaps:
        start = stamps[i] + spacing
        by_length.setdefault(int(stamps[i + 1] - start), []).append(pd.Timestamp(start).strftime("%Y-%m-%d %H:%M:%S"))
    breaks = [{"values": values, "dvalue": length / 1e6} for length, values in sorted(by_length.items())]
    fig.update_xaxes(rangebreaks=breaks)
    return fig


def cumulative_returns(prices: pd.DataFrame, title: str = "Growth of $1", *, log_y: bool = True) -> go.Figure:
    """Each column's price relative to its first valid value.

    On a log scale by default (ticks at 1-2-5 steps), so a 20-bagger does not flatten
    every other line.
    """
    fig = _fig(title, yaxis_title="growth of $1 (log scale)" if log_y else "growth of $1")
    lo, hi = np.inf, -np.inf
    for name in prices.columns:
        column = prices[name].dropna()
        if column.empty:
            continue
        growth = column / column.iloc[0]
        lo, hi = min(lo, float(growth.min())), max(hi, float(growth.max()))
        fig.add_trace(go.Scatter(x=column.index, y=growth, name=str(name), mode="lines"))
    if log_y and np.isfinite(lo) and lo > 0:
        ticks = [m * 10.0**e for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
                 for m in (1, 2, 5)]  # fmt: skip
        ticks = [t for t in ticks if lo / 2 <= t <= hi * 2]
        fig.update_yaxes(type="log", tickvals=ticks, ticktext=[fmt.money(t, 0 if t >= 1 else 2) for t in ticks])
    else:
        fig.update_yaxes(tickformat="$,.2f")
    return fig


def rate_series(series, title: str = "Benchmark rate (money-market yield)") -> go.Figure:
    """A :class:`~astra.data.rates.RateSeries` over time, in percent.

    The y-axis spans the data padded by 10 % of its range and at least ±10 bp, so a flat
    4.3 % benchmark sits in a 4.2 %..4.4 % window instead of plotly's default ±50 %.
    """
    rates = series.rates.dropna()
    layout = {"yaxis_title": "rate", "yaxis_tickformat": ".2%"}
    if len(rates):
        lo, hi = float(rates.min()), float(rates.max())
        pad = max(_RATE_PAD, 0.1 * (hi - lo))
        layout["yaxis_range"] = [lo - pad, hi + pad]
    fig = _fig(title, **layout)
    fig.add_trace(go.Scatter(x=series.rates.index, y=series.rates, mode="lines", name=series.source))
    return fig


def carry_components(carry) -> go.Figure:
    """One day's carry by component (USD, + = client receives)."""
    names = [k.replace("_", " ") for k in carry.components]
    values = list(carry.components.values())
    fig = _fig(f"Daily carry by component ({carry.model}, {carry.accrual_days} day(s))", yaxis_title="USD",
               yaxis=_USD)  # fmt: skip
    fig.add_trace(go.Bar(x=names, y=values, marker_color=[LONG if v >= 0 else SHORT for v in values]))
    return fig


def carry_positions(carry) -> go.Figure:
    """Carry of each position, split into financing, rebate and borrow fee."""
    frame = carry.positions
    fig = _fig("Daily carry by position", barmode="relative", yaxis_title="USD", yaxis=_USD)
    for column, color in (("financing", SHORT), ("rebate", LONG), ("borrow_fee", "#fdae61")):
        fig.add_trace(go.Bar(x=list(frame.index), y=frame[column], name=column.replace("_", " "), marker_color=color))
    return fig


def model_comparison(comparison: dict) -> go.Figure:
    """Daily carry of one book under each funding convention (the notebook's is ``seed``)."""
    carry = comparison["daily_carry"]
    fig = _fig("Same book, four conventions: daily carry", yaxis_title="USD", yaxis=_USD)
    fig.add_trace(
        go.Bar(
            x=list(carry),
            y=list(carry.values()),
            marker_color=[NEUTRAL if m != "seed" else "#999999" for m in carry],
            text=[fmt.money(v) for v in carry.values()],
        )
    )
    return fig


def margin_requirements(margin) -> go.Figure:
    """Requirement under each regime against the account equity."""
    regimes = {"Reg T initial": margin.reg_t_initial, "FINRA maintenance": margin.finra_maintenance,
               "portfolio margin": margin.portfolio_margin}  # fmt: skip
    fig = _fig("Margin requirement vs equity", yaxis_title="USD", yaxis=_USD)
    fig.add_trace(go.Bar(x=list(regimes), y=list(regimes.values()), marker_color=NEUTRAL, name="requirement"))
    fig.add_hline(y=margin.equity, line_dash="dash", line_color=LONG, annotation_text="equity")
    return fig


def weights(result, title: str = "Optimised weights (× equity)") -> go.Figure:
    """Weights as bars, longs green and shorts red."""
    w = np.asarray(result.weights)
    fig = _fig(title, yaxis_title="weight", yaxis_tickformat=".0%")
    fig.add_trace(go.Bar(x=list(result.tickers), y=w, marker_color=[LONG if v >= 0 else SHORT for v in w]))
    return fig


def frontier(points: list[dict], chosen=None) -> go.Figure:
    """Efficient frontier from a γ sweep (annual volatility vs expected return)."""
    fig = _fig("Efficient frontier (γ sweep)", xaxis_title="volatility (annual)", yaxis_title="expected return",
               xaxis_tickformat=".0%", yaxis_tickformat=".0%")  # fmt: skip
    if points:
        fig.add_trace(
            go.Scatter(
                x=[p["volatility_ann"] for p in points],
                y=[p["expected_return_ann"] for p in points],
                mode="lines+markers",
                text=[f"γ={p['gamma']:g}" for p in points],
                name="frontier",
            )
        )
    if chosen is not None:
        fig.add_trace(go.Scatter(x=[chosen.volatility_ann], y=[chosen.expected_return_ann], mode="markers",
                                 marker={"size": 14, "color": SHORT}, name=f"chosen γ={chosen.gamma:g}"))  # fmt: skip
    return fig


def pair_panels(report) -> go.Figure:
    """β path, z-score with entry/exit bands and position, and the equity curve net of costs."""
    s = report.signals
    rules = report.rules
    titles = ("hedge ratio β", "z-score, bands and position", "cumulative P&L, net of costs")
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05, subplot_titles=titles)
    x = _wall_clock(s.index) if isinstance(s.index, pd.DatetimeIndex) else s.index
    fig.add_trace(go.Scatter(x=x, y=s["beta"], name="β", line={"color": NEUTRAL}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=s["z"], name="z", line={"color": "#333333", "width": 1}), row=2, col=1)
    for level, color in ((rules.entry, SHORT), (-rules.entry, SHORT), (rules.exit, LONG), (-rules.exit, LONG)):
        fig.add_hline(y=level, line_dash="dot", line_color=color, row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=s["signal"], name="position", line={"shape": "hv", "color": "#fdae61"}),
                  row=2, col=1)  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=s["pnl"].cumsum(), name="P&L", line={"color": LONG}), row=3, col=1)
    fig.update_layout(title=f"{report.pair[1]} vs {report.pair[0]} ({report.kalman.model})",
                      **{**_LAYOUT, "height": 720})  # fmt: skip
    fig.update_yaxes(title_text="USD", tickformat="$,.0f", row=3, col=1)
    return trading_time_axis(fig, s.index)


def pnl_distribution(pnl, var: float, es: float, title: str = "P&L distribution") -> go.Figure:
    """Histogram of simulated or historical P&L with VaR and ES marked (as losses)."""
    fig = _fig(title, xaxis_title="P&L (USD)", yaxis_title="days" if isinstance(pnl, pd.Series) else "count",
               xaxis=_USD)  # fmt: skip
    fig.add_trace(go.Histogram(x=np.asarray(pnl), nbinsx=120, marker_color=NEUTRAL, name="P&L"))
    fig.add_vline(x=-var, line_color=SHORT, annotation_text=f"VaR {fmt.money(var, 0)}",
                  annotation_position="top right")  # fmt: skip
    fig.add_vline(x=-es, line_color="#7f0000", line_dash="dash", annotation_text=f"ES {fmt.money(es, 0)}",
                  annotation_position="top left")  # fmt: skip
    return fig


def component_var(components: list[dict], title: str = "Component VaR") -> go.Figure:
    """Euler components by name (they sum to the total)."""
    names = [c["ticker"] for c in components]
    values = [c["component_var"] for c in components]
    fig = _fig(title, yaxis_title="USD", yaxis=_USD)
    fig.add_trace(go.Bar(x=names, y=values, marker_color=[SHORT if v >= 0 else LONG for v in values]))
    return fig


def stress_bars(table: pd.DataFrame, value: str = "pnl", title: str = "Stress scenarios") -> go.Figure:
    """Scenario P&L, worst first."""
    frame = table.sort_values(value)
    fig = _fig(title, xaxis_title="P&L (USD)", height=max(380, 24 * len(frame)), xaxis=_USD)
    fig.add_trace(go.Bar(y=[str(i).replace("_", " ") for i in frame.index], x=frame[value], orientation="h",
                         marker_color=[SHORT if v < 0 else LONG for v in frame[value]]))  # fmt: skip
    fig.update_yaxes(automargin=True)  # long scenario names ("benchmark +100bp 1y") are never cut
    return fig


def period_carry(daily: pd.DataFrame, title: str = "Carry by business day") -> go.Figure:
    """Each business day's carry of a period (USD, + = client receives); weekends and holidays accrue on the day
    before. ``daily`` is :attr:`astra.funding.PeriodCarry.daily`."""
    values = daily["carry"]
    fig = _fig(title, yaxis_title="USD", height=340, yaxis=_USD, xaxis_type="category")
    fig.add_trace(go.Bar(x=[fmt.date(d) for d in daily.index], y=values,
                         marker_color=[LONG if v >= 0 else SHORT for v in values], customdata=daily["accrual_days"],
                         hovertemplate="%{x}: %{y:$,.2f} (%{customdata} night(s))<extra></extra>"))  # fmt: skip
    return fig


def backtest_exceptions(pnl: pd.Series, var_forecast: pd.Series, title: str = "VaR backtest") -> go.Figure:
    """Realised P&L against the (negative) VaR forecast, exceptions marked."""
    fig = _fig(title, yaxis_title="USD", yaxis=_USD)
    fig.add_trace(go.Scatter(x=pnl.index, y=pnl, mode="lines", name="P&L", line={"color": "#777777", "width": 1}))
    fig.add_trace(go.Scatter(x=var_forecast.index, y=-var_forecast, mode="lines", name="−VaR", line={"color": SHORT}))
    hits = pnl[pnl < -var_forecast.reindex(pnl.index)]
    fig.add_trace(go.Scatter(x=hits.index, y=hits, mode="markers", name="exceptions",
                             marker={"color": SHORT, "size": 8, "symbol": "x"}))  # fmt: skip
    return fig
