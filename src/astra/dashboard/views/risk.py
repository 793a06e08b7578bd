"""Risk: VaR/ES by method with MC error, P&L distribution, component VaR, stress, backtest."""

import pandas as pd
import streamlit as st

from astra.dashboard._common import attempt, book_input, page, price_source, table
from astra.reporting import figures
from astra.workflows.risk import book_history, risk_backtest, risk_stress, risk_var, var_options

page("Risk", "VaR and ES are positive USD losses on today's book (shares fixed, prices move), multi-day paths "
     "compounded; the book is marked at the last close of its history.")  # fmt: skip
c1, c2, c3, c4 = st.columns(4)
level = c1.slider("Level", 0.90, 0.999, 0.99, 0.001, format="%.3f")
horizon = c2.number_input("Horizon (days)", 1, 60, 1)
scenarios = c3.select_slider("MC scenarios", [10_000, 50_000, 100_000, 250_000, 1_000_000], 50_000)
start = c4.text_input("History from", "2015-01-01", key="risk-start")
methods = st.multiselect("Methods", ["param", "hist", "fhs", "mc"], ["param", "hist", "mc"])
m1, m2, m3 = st.columns(3)
cov = m1.selectbox("Covariance (param, mc)", ["sample", "lw", "ewma", "factor"], key="risk-cov",
                   help="factor: statistical factors + a specific variance per name")  # fmt: skip
paths = m2.selectbox(
    "MC paths",
    ["compound", "lognormal"],
    key="risk-paths",
    help="compound: daily simple returns compounded; lognormal: one draw of the horizon's log return",
)
antithetic = m3.checkbox("Antithetic pairs (mc)", key="risk-anti", help="(z, −z) pairs: half the draws")
inputs = {"source": price_source(), "start": start or None, "equity": st.session_state.get("book_equity")}
book = book_input()

# The history is opened once: a book with names outside the data is one message, not one per method.
history = attempt(lambda: book_history(book, **inputs))
if history is not None:
    rows, reports = {}, {}
    progress = st.progress(0.0, text="VaR…")
    for i, method in enumerate(methods):
        options = var_options(method, level=level, horizon=int(horizon), scenarios=int(scenarios), seed=7,
                              cov=cov if method in ("param", "mc") else "sample",
                              factors=min(3, len(history.book.tickers) - 1) or 1,
                              paths=paths if method == "mc" else "compound",
                              antithetic=antithetic and method == "mc")  # fmt: skip
        report = attempt(lambda options=options: risk_var(book, **inputs, **options))
        progress.progress((i + 1) / max(len(methods), 1), text=f"VaR: {method} done")
        if report is not None:
            r = report.result
            reports[method] = report
            se = r.mc_std_error or {}
            rows[method] = {"VaR": r.var, "ES": r.es, "VaR % gross": r.var_pct_gross,
                            "s.e. VaR": se.get("var"), "s.e. ES": se.get("es")}  # fmt: skip
    progress.empty()
    if rows:
        frame = pd.DataFrame(rows).T.rename_axis("method")
        caption = f"{level:.1%} {int(horizon)}-day VaR and ES (USD); marks: {history.marks}"
        table(frame, "var_by_method", caption=caption)
        first = reports.get("hist") or next(iter(reports.values()))
        left, right = st.columns(2)
        left.plotly_chart(figures.pnl_distribution(first.history.pnl, first.result.var, first.result.es),
                          key="pnl")  # fmt: skip
        right.plotly_chart(figures.component_var(first.result.components), key="components")
    stress = attempt(lambda: risk_stress(book, **inputs))
    if stress is not None:
        st.subheader("Stress scenarios")
        st.plotly_chart(figures.stress_bars(stress.table), key="stress")
        table(stress.table, "stress_scenarios")
        rev = stress.reverse
        moves = [f"{rev[side]:+.2%} ({side})" for side in ("down", "up") if rev.get(side) is not None]
        st.write(f"Reverse stress: a uniform price move of {' or '.join(moves) or 'none within −99 %..+1000 %'} "
                 f"wipes the margin excess (call measured against {rev['regime']}).")  # fmt: skip
    backtest = attempt(lambda: risk_backtest(book, window=250, level=level, seed=0, **inputs))
    if backtest is not None:
        b = backtest.result
        st.subheader(f"VaR backtest: {b.n_exceptions} exceptions in {b.n_obs} days — traffic light {b.traffic_light}")
        st.plotly_chart(figures.backtest_exceptions(backtest.forecasts["pnl"], backtest.forecasts["var"]),
                        key="backtest")  # fmt: skip
        st.write(f"Kupiec p {b.kupiec_pvalue:.3f} · Christoffersen p {b.independence_pvalue:.3f} · ES Z2 {b.es_z2:.3f}")
