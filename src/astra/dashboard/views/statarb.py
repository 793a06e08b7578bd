"""Stat-arb: pair inputs, model and signal settings; β path, z with bands, positions, equity, metrics."""

import streamlit as st

from astra import format as fmt
from astra.dashboard._common import attempt, check_tickers, page, price_source, public, source_label
from astra.dashboard._show import metric, table
from astra.reporting import figures
from astra.statarb import SignalRules
from astra.workflows import statarb_run
from astra.workflows.common import DEFAULT_BENCHMARK_RATE

page("Stat-arb", "Decided on bar t, filled at t+1; costs on traded notional; overnight funding of the legs by the "
     "funding engine at the default benchmark rate.")  # fmt: skip
c1, c2, c3 = st.columns(3)
x = c1.text_input("x (hedge leg)", st.session_state.get("pair_x", "BAC"), key="sa-x")
y = c2.text_input("y (traded leg)", st.session_state.get("pair_y", "JPM"), key="sa-y")
SYNTHETIC = "synthetic (1-minute)"
origin = c3.selectbox("Source", ["session", SYNTHETIC], key="sa-origin",
                      format_func=lambda o: o if o == SYNTHETIC else f"{source_label()} (daily)")  # fmt: skip
c4, c5, c6, c7 = st.columns(4)
model = c4.selectbox("Model", ["kalman2", "kalman3"])
entry = c5.slider("Entry |z|", 0.5, 4.0, 2.0, 0.25)
exit_ = c6.slider("Exit |z|", 0.0, 2.0, 0.5, 0.25)
stop = c7.slider("Stop |z|", 2.0, 10.0, 4.0, 0.5)
c8, c9, c10 = st.columns(3)
cost = c8.number_input("Trading cost (bp)", 0.0, 50.0, 1.0, 0.5)
start = c9.text_input("From", "2015-01-01", key="sa-start", disabled=origin == SYNTHETIC)
split = c10.text_input("Walk-forward split (YYYY-MM-DD; blank = in-sample)", "", key="sa-split",
                       disabled=origin == SYNTHETIC)  # fmt: skip
intraday = origin == SYNTHETIC


def run():
    xs, ys = check_tickers(x, maximum=1)[0], check_tickers(y, maximum=1)[0]
    rules = SignalRules(entry=entry, exit=exit_, stop=stop)
    if intraday:
        return statarb_run(xs, ys, source="synthetic", interval="1m", model=model, rules=rules, cost_bps=cost,
                           rate=DEFAULT_BENCHMARK_RATE)  # fmt: skip
    return statarb_run(xs, ys, source=price_source(), start=start or None, model=model, rules=rules, cost_bps=cost,
                       split=split or None, rate=DEFAULT_BENCHMARK_RATE)  # fmt: skip


with st.spinner("Fitting the Kalman filter and back-testing…"):
    report = attempt(run)
if report is not None:
    d = report.to_dict()
    m = st.columns(6)
    lo, hi = d["sharpe_ci95"]
    metric(
        m[0], "Sharpe (annual)", d["sharpe_ann"], "ratio", help=f"95% CI {fmt.ratio(lo)} to {fmt.ratio(hi)} (Lo 2002)"
    )
    metric(m[1], "Return", d["total_return"], "pct", signed=True)
    metric(m[2], "Trades", d["trades"], "count")
    metric(m[3], "Max drawdown", d["max_drawdown"], "pct")
    metric(m[4], "β now", d["beta_last"], "ratio", digits=3)
    metric(
        m[5], "Half-life (bars)", d["half_life_bars"], "ratio", digits=1, help="bars for the spread to halve its gap"
    )
    st.plotly_chart(figures.pair_panels(report), key="panels")
    for note in report.notes:
        st.caption(public(note))
    when = "datetime" if intraday else "date"
    table(report.trades, "trades", index_name="trade",
          kinds={"entry": when, "exit": when, "side": "text", "bars": "count", "pnl": "money"},
          labels={"pnl": "P&L (USD, net)"}, caption="Round trips, entry and exit bars", hide_index=True)  # fmt: skip
    signals = report.signals.tail(500)
    money = ["costs", "funding", "pnl"]
    table(signals, "kalman_signals", index=when, export=report.signals,
          kinds={"x": "money", "y": "money", "alpha": ("ratio", {"digits": 4}), "beta": ("ratio", {"digits": 4}),
                 "spread": ("ratio", {"digits": 4}), "z": ("ratio", {"digits": 2}), "signal": "count",
                 "position_y": "shares", "position_x": "shares", **dict.fromkeys(money, "money")},
          labels={"x": f"{report.pair[0]} close", "y": f"{report.pair[1]} close",
                  "position_y": f"{report.pair[1]} shares", "position_x": f"{report.pair[0]} shares",
                  "pnl": "P&L"},
          caption=f"Last {len(signals)} of {fmt.count(len(report.signals))} bars (downloads: all)")  # fmt: skip
