"""Stat-arb: pair inputs, model and signal settings; β path, z with bands, positions, equity, metrics."""

import streamlit as st

from astra.dashboard._common import attempt, check_tickers, page, price_source, source_label, table
from astra.reporting import figures
from astra.statarb import SignalRules
from astra.workflows import statarb_run
from astra.workflows.common import DEFAULT_BENCHMARK_RATE

page("Stat-arb", "Decided on bar t, filled at t+1; costs on traded notional; overnight funding of the legs by the "
     "funding engine.")  # fmt: skip
c1, c2, c3 = st.columns(3)
x = c1.text_input("x (hedge leg)", st.session_state.get("pair_x", "BAC"), key="sa-x")
y = c2.text_input("y (traded leg)", st.session_state.get("pair_y", "JPM"), key="sa-y")
origin = c3.selectbox("Source", [source_label(), "synthetic (1-minute)"])
c4, c5, c6, c7 = st.columns(4)
model = c4.selectbox("Model", ["kalman2", "kalman3"])
entry = c5.slider("Entry |z|", 0.5, 4.0, 2.0, 0.25)
exit_ = c6.slider("Exit |z|", 0.0, 2.0, 0.5, 0.25)
stop = c7.slider("Stop |z|", 2.0, 10.0, 4.0, 0.5)
c8, c9, c10 = st.columns(3)
cost = c8.number_input("Trading cost (bp)", 0.0, 50.0, 1.0, 0.5)
start = c9.text_input("From", "2015-01-01", key="sa-start")
split = c10.text_input("Walk-forward split (blank = in-sample)", "", key="sa-split")


def run():
    xs, ys = check_tickers(x, maximum=1)[0], check_tickers(y, maximum=1)[0]
    rules = SignalRules(entry=entry, exit=exit_, stop=stop)
    if origin.startswith("synthetic"):
        return statarb_run(xs, ys, source="synthetic", interval="1m", model=model, rules=rules, cost_bps=cost)
    return statarb_run(xs, ys, source=price_source(), start=start or None, model=model, rules=rules, cost_bps=cost,
                       split=split or None, rate=DEFAULT_BENCHMARK_RATE)  # fmt: skip


with st.spinner("Fitting the Kalman filter and back-testing…"):
    report = attempt(run)
if report is not None:
    d = report.to_dict()
    m = st.columns(5)
    lo, hi = d["sharpe_ci95"]
    m[0].metric("Sharpe (annual)", f"{d['sharpe_ann']:.2f}", help=f"95% CI {lo:.2f} to {hi:.2f} (Lo 2002)")
    m[1].metric("Return", f"{d['total_return']:+.2%}")
    m[2].metric("Trades", d["trades"])
    m[3].metric("Max drawdown", f"{d['max_drawdown']:.2%}")
    m[4].metric("β now", f"{d['beta_last']:.3f}")
    st.plotly_chart(figures.pair_panels(report), key="panels")
    for note in report.notes:
        st.caption(note)
    table(report.trades, "trades")
    table(report.signals.tail(500), "kalman_signals", caption="last 500 bars")
