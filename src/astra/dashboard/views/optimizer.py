"""Optimiser: the notebook's controls plus PB constraints and costs; weights, real volatility, frontier.

Starts from a universe, or from the session's book (its names, equity and funding terms;
the current weights anchor the turnover limit), exactly as ``astra optimize --book``.
"""

import streamlit as st

from astra import format as fmt
from astra.dashboard._common import attempt, book_input, book_name, page, price_source, public, source_label
from astra.dashboard._show import metric, table
from astra.reporting import figures
from astra.workflows import optimize_portfolio
from astra.workflows.book import open_book
from astra.workflows.common import DEFAULT_BENCHMARK_RATE
from astra.workflows.data import available_tickers

page("Optimiser", "Weights are position value over account equity; volatility is √(252·wᵀΣw) of the returned "
     "weights; every solution is re-checked against its limits.")  # fmt: skip
source = price_source()
names = attempt(lambda: available_tickers(source)) or []
start_from = st.radio("Start from", ["a universe", f"the session's book ({book_name()})"], horizontal=True,
                      key="opt-start-from", help="The book brings its names, equity and funding terms; its "
                      "current weights anchor the turnover limit.")  # fmt: skip
from_book = not start_from.startswith("a universe")
default = [t for t in ["AAPL", "MSFT", "AMD", "JPM", "BAC", "XOM", "JNJ", "PG"] if t in names] or names[:8]
if from_book:
    universe = st.multiselect(f"Names to add to the book's ({source_label()})", names, [], key="opt-extra")
else:
    universe = st.multiselect(f"Universe ({source_label()})", names, default, key="opt-universe")
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
rate = c8.number_input("Benchmark for funding (decimal; 0 = leave out)", 0.0, 0.5, DEFAULT_BENCHMARK_RATE, 0.001,
                       format="%.3f")  # fmt: skip
vol_target = c9.number_input("Vol target (maxret)", 0.01, 1.0, 0.10, 0.01)
c10, c11, c12 = st.columns(3)
long_only = c10.checkbox("Long only")
start = c11.text_input("History from", "2018-01-01")
turnover = c12.number_input("Max turnover from the book (Σ|Δw|; 0 = no limit)", 0.0, 10.0, 0.0, 0.1,
                            key="opt-turnover", disabled=not from_book)  # fmt: skip

band = "1:1" if problem == "minvar" else f"{-net}:{net}"
equity = st.session_state.get("book_equity") if from_book else None


def job():
    book = open_book(book_input(), source=source, equity=equity).book if from_book else None
    return optimize_portfolio(
        problem=problem, universe=universe, book=book, source=source, start=start, cov=cov, gross=gross, net=band,
        max_weight=max_weight, long_only=long_only, gamma=gamma, vol_target=vol_target if problem == "maxret" else None,
        tc_bps=tc_bps, rate=rate or None, equity=equity, turnover=(turnover or None) if from_book else None,
        gammas=[1, 2, 5, 10, 20, 50] if problem == "meanvar" else None,
    )  # fmt: skip


st.caption(f"Book: **{book_name() if from_book else 'none (a universe, $1,000,000 equity)'}** · "
           f"prices: **{source_label()}**")  # fmt: skip
result = attempt(job)
if result is not None:
    r = result.result
    m = st.columns(5)
    metric(m[0], "Volatility", r.volatility_ann, "pct", help="√(252·w'Σw) of these weights, never the utility")
    metric(m[1], "Exp. return", r.expected_return_ann, "pct", signed=True)
    metric(m[2], "Carry", r.carry_ann, "pct", signed=True, help="annual, % of equity, by the funding engine")
    m[3].metric(
        "Gross", f"{fmt.ratio(r.gross)}×", delta=f"net {fmt.weight(r.net)}", delta_color="off", delta_arrow="off"
    )
    m[4].metric("Solve", f"{fmt.count(r.solve_ms)} ms", help=r.solver)
    st.plotly_chart(figures.weights(r), key="weights")
    st.write("Binding constraints: " + (", ".join(r.binding) or "none"))
    if result.frontier:
        st.plotly_chart(figures.frontier(result.frontier, r), key="frontier")
    frame = result.to_frame()
    table(frame, "optimized_weights", index_name="ticker",
          kinds={"weight": "weight", "value": ("money", {"digits": 0}), "price": "money", "shares": "shares"},
          labels={"weight": "weight (× equity)", "value": "position value"},
          caption="Weights are of account equity; shares rounded to whole lots at the last close")  # fmt: skip
    drift = result.rounding.get("max_weight_drift")
    if drift is not None:
        st.caption(f"Rounding to lots of {result.lot} moves a weight by at most {fmt.bp(drift, from_decimal=True)}.")
    for note in result.notes:
        st.caption(public(note))
