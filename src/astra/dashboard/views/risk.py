"""Risk: VaR/ES by method with MC error, P&L distribution, component VaR, stress, backtest."""

import pandas as pd
import streamlit as st

from astra import format as fmt
from astra.dashboard._common import attempt, book_input, page, price_source, public
from astra.dashboard._show import metric, shown_table, table
from astra.reporting import figures
from astra.reporting.tables import VAR_METHODS, backtest_table, reverse_stress_sentence, stress_table, var_table
from astra.workflows.risk import book_history, risk_backtest, risk_stress, risk_var, var_options

BACKTEST_WINDOW = 250

page("Risk", "VaR and ES are positive USD losses on today's book (shares fixed, prices move), multi-day paths "
     "compounded; the book is marked at the last close of its history.")  # fmt: skip
c1, c2, c3, c4 = st.columns(4)
level = c1.slider("Level", 0.90, 0.999, 0.99, 0.001, format="%.3f")
horizon = c2.number_input("Horizon (days)", 1, 60, 1)
scenarios = c3.select_slider("MC scenarios", [10_000, 50_000, 100_000, 250_000, 1_000_000], 50_000,
                             format_func=fmt.count)  # fmt: skip
start = c4.text_input("History from", "2015-01-01", key="risk-start")
methods = st.multiselect("Methods", ["param", "hist", "fhs", "mc"], ["param", "hist", "mc"],
                         format_func=lambda m: VAR_METHODS.get(m, m))  # fmt: skip
m1, m2, m3 = st.columns(3)
cov = m1.selectbox("Covariance (param, mc)", ["sample", "lw", "ewma", "factor"], key="risk-cov",
                   help="factor: statistical factors + a specific variance per name")  # fmt: skip
paths = m2.selectbox(
    "MC paths",
    ["compound", "lognormal"],
    key="risk-paths",
    help="compound: daily simple returns compounded; lognormal: one draw of the horizon's log return",
)
reduction = m3.selectbox(
    "MC variance reduction",
    ["auto", "none", "antithetic", "control", "importance", "importance+control", "importance+antithetic+control"],
    key="risk-vr",
    help="auto: a pilot run picks the design with the least VaR variance per unit of work (the CLI's default)",
)
inputs = {"source": price_source(), "start": start or None, "equity": st.session_state.get("book_equity")}
book = book_input()

# The history is opened once: a book with names outside the data is one message, not one per method.
history = attempt(lambda: book_history(book, **inputs))
if history is not None:
    st.caption(f"Book **{history.book.name}**, gross {fmt.money(history.book.gross, 0)}; marks: "
               f"{public(history.marks)}; {fmt.count(len(history.returns))} days of history.")  # fmt: skip
    rows, reports = {}, {}
    progress = st.progress(0.0, text="VaR…")
    for i, method in enumerate(methods):
        options = var_options(method, level=level, horizon=int(horizon), scenarios=int(scenarios), seed=7,
                              cov=cov if method in ("param", "mc") else "sample",
                              factors=min(3, len(history.book.tickers) - 1) or 1,
                              paths=paths if method == "mc" else "compound",
                              variance_reduction=reduction if method == "mc" else "auto")  # fmt: skip
        report = attempt(lambda options=options: risk_var(book, **inputs, **options))
        progress.progress((i + 1) / max(len(methods), 1), text=f"VaR: {VAR_METHODS.get(method, method)} done")
        if report is not None:
            r = report.result
            reports[method] = report
            se = r.mc_std_error or {}
            rows[method] = {"var": r.var, "es": r.es, "var_pct_gross": r.var_pct_gross, "es_pct_gross": r.es_pct_gross,
                            "se_var": se.get("var"), "se_es": se.get("es"), "scenarios": r.scenarios}  # fmt: skip
    progress.empty()
    if rows:
        st.subheader(f"{fmt.pct(level, 1)} {int(horizon)}-day VaR and ES")
        m = st.columns(len(reports))
        for column, (method, report) in zip(m, reports.items(), strict=True):
            metric(column, f"VaR · {VAR_METHODS.get(method, method)}", report.result.var, digits=0,
                   help=f"ES {fmt.money(report.result.es, 0)}")  # fmt: skip
        raw = pd.DataFrame(rows).T.rename_axis("method")
        shown_table(var_table(reports), raw, "var_by_method", text_columns=["from"],
                    caption="USD losses; the parametric method is a closed form (no sampling error)")  # fmt: skip
        first = reports.get("hist") or next(iter(reports.values()))
        left, right = st.columns(2)
        left.plotly_chart(figures.pnl_distribution(first.history.pnl, first.result.var, first.result.es),
                          key="pnl")  # fmt: skip
        right.plotly_chart(figures.component_var(first.result.components), key="components")
        table(first.to_frame(), "var_components",
              kinds={"exposure": ("money", {"digits": 0}), "marginal_var": ("ratio", {"digits": 4}),
                     "component_var": ("money", {"digits": 0}), "pct": ("pct_pts", {"digits": 1}),
                     "marginal_es": ("ratio", {"digits": 4}), "component_es": ("money", {"digits": 0})},
              labels={"marginal_var": "marginal VaR ($ per $)", "component_var": "component VaR",
                      "pct": "% of VaR", "marginal_es": "marginal ES ($ per $)", "component_es": "component ES"},
              caption=f"Euler components ({VAR_METHODS.get(first.result.method, first.result.method)}): "
                      "they add up to the VaR and ES")  # fmt: skip
    stress = attempt(lambda: risk_stress(book, **inputs))
    if stress is not None:
        st.subheader("Stress scenarios")
        st.plotly_chart(figures.stress_bars(stress.table), key="stress")
        shown_table(stress_table(stress.table), stress.table, "stress_scenarios", text_columns=["kind", "from", "to"],
                    caption=f"P&L of today's book (USD, % of gross), worst first; benchmark "
                            f"{fmt.pct(stress.benchmark_rate)}")  # fmt: skip
        st.write(reverse_stress_sentence(stress.reverse))
        for note in stress.notes:
            st.caption(public(note))
    backtest = attempt(lambda: risk_backtest(book, window=BACKTEST_WINDOW, level=level, seed=0, **inputs))
    if backtest is not None:
        b = backtest.result
        st.subheader(f"VaR backtest: {fmt.count(b.n_exceptions)} exceptions in {fmt.count(b.n_obs)} days, "
                     f"traffic light {b.traffic_light}")  # fmt: skip
        st.plotly_chart(figures.backtest_exceptions(backtest.forecasts["pnl"], backtest.forecasts["var"]),
                        key="backtest")  # fmt: skip
        shown_table(backtest_table(b, method=backtest.method, window=backtest.window), backtest.forecasts,
                    "var_backtest", text_columns=["value"], index_name="date",
                    caption="One-day forecasts at the chosen level, rolled over the book's history")  # fmt: skip
