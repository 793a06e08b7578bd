"""Optimiser: the notebook's controls plus PB constraints and costs; weights, real volatility, frontier."""

import streamlit as st

from astra.dashboard._common import attempt, page, price_source, source_label, table
from astra.reporting import figures
from astra.workflows import optimize_portfolio
from astra.workflows.common import DEFAULT_BENCHMARK_RATE
from astra.workflows.data import available_tickers

page("Optimiser", "Weights are position value over account equity; volatility is √(252·wᵀΣw) of the returned "
     "weights; every solution is re-checked against its limits.")  # fmt: skip
source = price_source()
names = attempt(lambda: available_tickers(source)) or []
default = [t for t in ["AAPL", "MSFT", "AMD", "JPM", "BAC", "XOM", "JNJ", "PG"] if t in names] or names[:8]
universe = st.multiselect(f"Universe ({source_label()})", names, default)
c1, c2, c3 = st.columns(3)
problem = c1.selectbox("Problem", ["meanvar", "minvar", "maxret"])
gross = c2.slider("Gross leverage (× equity)", 1.0, 5.0, 2.0, 0.25)
gamma = c3.slider("Risk aversion γ (annual variance)", 0.5, 50.0, 5.0, 0.5)
c4, c5, c6 = st.columns(3)
net = c4.slider("Net band (±, × equity)", 0.0, 1.0, 0.05, 0.01)
max_weight = c5.slider("Max |weight| per name", 0.05, 1.0, 0.25, 0.05)
cov = c6.selectbox("Covariance", ["lw", "sample", "ewma", "factor"])
c7, c8, c9 = st.columns(3)
tc_bps = c7.number_input("Trading cost (bp)", 0.0, 100.0, 10.0, 1.0)
rate = c8.number_input("Benchmark for funding (0 = leave out)", 0.0, 0.5, DEFAULT_BENCHMARK_RATE, 0.001, format="%.3f")
vol_target = c9.number_input("Vol target (maxret)", 0.01, 1.0, 0.10, 0.01)
long_only = st.checkbox("Long only")
start = st.text_input("History from", "2018-01-01")

band = "1:1" if problem == "minvar" else f"{-net}:{net}"
result = attempt(
    lambda: optimize_portfolio(
        problem=problem, universe=universe, source=source, start=start, cov=cov, gross=gross, net=band,
        max_weight=max_weight, long_only=long_only, gamma=gamma, vol_target=vol_target if problem == "maxret" else None,
        tc_bps=tc_bps, rate=rate or None, gammas=[1, 2, 5, 10, 20, 50] if problem == "meanvar" else None,
    )
)  # fmt: skip
if result is not None:
    r = result.result
    m = st.columns(5)
    m[0].metric("Volatility", f"{r.volatility_ann:.2%}", help="√(252·w'Σw) of these weights, never the utility")
    m[1].metric("Exp. return", f"{r.expected_return_ann:+.2%}")
    m[2].metric("Carry", f"{r.carry_ann:+.2%}", help="annual, by the funding engine")
    m[3].metric("Gross", f"{r.gross:.2f}", delta=f"net {r.net:+.3f}", delta_color="off")
    m[4].metric("Solve", f"{r.solve_ms:.0f} ms", help=r.solver)
    st.plotly_chart(figures.weights(r), key="weights")
    st.write("Binding constraints: " + (", ".join(r.binding) or "none"))
    if result.frontier:
        st.plotly_chart(figures.frontier(result.frontier, r), key="frontier")
    table(result.to_frame(), "optimized_weights")
    for note in result.notes:
        st.caption(note)
