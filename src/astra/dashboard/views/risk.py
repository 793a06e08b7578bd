"""Risk: VaR/ES by method with MC error, P&L distribution, component VaR, stress, backtest."""

import pandas as pd
import streamlit as st

from astra.dashboard._common import SAMPLE_BOOK_TEXT, attempt, book_from_text, table
from astra.reporting import figures
from astra.workflows.risk import risk_backtest, risk_stress, risk_var

st.title("Risk")
book = attempt(lambda: book_from_text(st.session_state.get("book_text", SAMPLE_BOOK_TEXT)))
c1, c2, c3, c4 = st.columns(4)
level = c1.slider("Level", 0.90, 0.999, 0.99, 0.001, format="%.3f")
horizon = c2.number_input("Horizon (days)", 1, 60, 1)
scenarios = c3.select_slider("MC scenarios", [10_000, 50_000, 100_000, 250_000, 1_000_000], 50_000)
start = c4.text_input("History from", "2015-01-01", key="risk-start")
methods = st.multiselect("Methods", ["param", "hist", "fhs", "mc"], ["param", "hist", "mc"])
m1, m2, m3 = st.columns(3)
covariance = m1.selectbox("Covariance (param, mc)", ["sample", "lw", "ewma", "factor"], key="risk-cov",
                          help="factor: statistical factors + a specific variance per name")  # fmt: skip
paths = m2.selectbox(
    "MC paths",
    ["compound", "lognormal"],
    key="risk-paths",
    help="compound: daily simple returns compounded; lognormal: one draw of the horizon's log return",
)
antithetic = m3.checkbox("Antithetic pairs (mc)", key="risk-anti", help="(z, −z) pairs: half the draws")

if book is not None:
    rows, reports = {}, {}
    progress = st.progress(0.0, text="VaR…")
    for i, method in enumerate(methods):
        options = {"method": method, "level": level, "horizon": int(horizon)}
        if method in ("mc", "fhs"):
            options.update(scenarios=int(scenarios), seed=7)
        if method in ("param", "mc") and covariance != "sample":
            options.update(covariance=covariance, factors=min(3, len(book.tickers) - 1) or 1)
        if method == "mc":
            options.update(paths=paths, antithetic=antithetic)
        report = attempt(lambda options=options: risk_var(book, start=start or None, **options))
        progress.progress((i + 1) / max(len(methods), 1), text=f"VaR: {method} done")
        if report is not None:
            r = report.result
            reports[method] = report
            rows[method] = {"VaR": r.var, "ES": r.es, "VaR % gross": r.var_pct_gross,
                            "s.e. VaR": r.mc_std_error.get("var"), "s.e. ES": r.mc_std_error.get("es")}  # fmt: skip
    progress.empty()
    if rows:
        table(pd.DataFrame(rows).T, "var_by_method", caption=f"{level:.1%} {int(horizon)}-day VaR and ES (USD)")
        first = reports.get("hist") or next(iter(reports.values()))
        left, right = st.columns(2)
        left.plotly_chart(figures.pnl_distribution(first.history.pnl, first.result.var, first.result.es),
                          key="pnl")  # fmt: skip
        right.plotly_chart(figures.component_var(first.result.components), key="components")
    stress = attempt(lambda: risk_stress(book, start=start or None))
    if stress is not None:
        st.subheader("Stress scenarios")
        st.plotly_chart(figures.stress_bars(stress.table), key="stress")
        table(stress.table, "stress_scenarios")
        st.write(f"Reverse stress ({stress.reverse['regime']}): {stress.reverse}")
    backtest = attempt(lambda: risk_backtest(book, window=250, level=level, start=start or None, seed=0))
    if backtest is not None:
        b = backtest.result
        st.subheader(f"VaR backtest: {b.n_exceptions} exceptions in {b.n_obs} days — traffic light {b.traffic_light}")
        st.plotly_chart(figures.backtest_exceptions(backtest.forecasts["pnl"], backtest.forecasts["var"]),
                        key="backtest")  # fmt: skip
        st.write(f"Kupiec p {b.kupiec_pvalue:.3f} · Christoffersen p {b.independence_pvalue:.3f} · ES Z2 {b.es_z2:.3f}")
