"""Book & funding: the session's book (edit it here); exposures, carry by component/position/convention, margin."""

import datetime as dt

import pandas as pd
import streamlit as st

from astra.dashboard._common import attempt, book_input, page, price_source, set_book, table
from astra.funding import MODELS
from astra.reporting import figures
from astra.workflows.book import BookText
from astra.workflows.common import DEFAULT_BENCHMARK_RATE
from astra.workflows.funding import funding_report

page("Book & funding", "Amounts are what the client receives (a cost is negative), ACT/360, accrued to the next "
     "XNYS business day; marks are the closes of the accrual day.")  # fmt: skip
book = book_input()
equity = st.session_state.get("book_equity")
version = st.session_state.get("book_version", 0)
edited = st.text_area(f"Book ({book.fmt.upper()}): edit and press Ctrl+Enter", book.text, height=260,
                      key=f"book-editor-{version}")  # fmt: skip
if edited != book.text and set_book(BookText(edited, book.fmt, book.name), equity=equity):
    book = book_input()

c1, c2, c3 = st.columns(3)
rate = c1.number_input("Benchmark rate (decimal)", -0.05, 0.5, DEFAULT_BENCHMARK_RATE, 0.0005, format="%.4f")
model = c2.selectbox("Convention", ["(book's)", *MODELS])
day = c3.date_input("Accrual day", dt.date(2022, 12, 23))
c4, c5, c6 = st.columns(3)
period_start = c4.date_input("Period start", dt.date(2022, 12, 1))
period_end = c5.date_input("Period end (inclusive)", dt.date(2022, 12, 30))
compounded = c6.checkbox("Compounded in arrears")
chosen = None if model == "(book's)" else model
inputs = {"rate": rate, "model": chosen, "source": price_source(), "equity": equity}

report = attempt(lambda: funding_report(book, on=pd.Timestamp(day), **inputs))
if report is not None:
    b, c = report.book, report.carry
    st.subheader(f"{b.name}: exposures (marks: {report.marks})")
    m = st.columns(5)
    m[0].metric("Long", f"${b.long_market_value:,.0f}")
    m[1].metric("Short", f"${b.short_market_value:,.0f}")
    m[2].metric("Gross", f"${b.gross:,.0f}")
    m[3].metric("Net", f"${b.net:,.0f}")
    m[4].metric("Leverage", f"{b.leverage:.2f}x")
    table(b.to_frame(), "positions")
    for note in b.notes:
        st.caption(note)
    st.metric(f"Daily carry on {c.day.date()} ({c.model}, {c.accrual_days} day(s) accrued)", f"${c.daily_carry:,.2f}",
              help=f"benchmark {report.benchmark_rate_source}")  # fmt: skip
    left, right = st.columns(2)
    left.plotly_chart(figures.carry_components(c), key="components")
    right.plotly_chart(figures.carry_positions(c), key="positions")
    table(c.to_frame(), "carry_by_position")
    st.subheader("The notebook's formula next to the correct conventions")
    st.plotly_chart(figures.model_comparison(report.comparison), key="models")
    st.info(report.comparison["explanation"])
    mg = report.margin
    st.subheader(f"Margin: call ${mg.call:,.0f} against {mg.regime} (requirement ${mg.requirement:,.0f})")
    st.caption(f"Reg T initial ${mg.reg_t_initial:,.0f} governs new purchases: buying power ${mg.buying_power:,.0f}.")
    st.plotly_chart(figures.margin_requirements(mg), key="margin")
    table(pd.DataFrame(mg.to_dict()["regimes"]).T.rename_axis("regime"), "margin_regimes")

period = attempt(lambda: funding_report(book, start=pd.Timestamp(period_start), end=pd.Timestamp(period_end),
                                        compounded=compounded, compare=False, **inputs).period)  # fmt: skip
if period is not None:
    how = "compounded in arrears" if period.compounded else "simple"
    st.subheader("Carry over a period")
    st.metric(f"Carry {period.start.date()} to {period.end.date()} ({how})", f"${period.total:,.2f}",
              help="each business day accrues its nights up to the next business day")  # fmt: skip
    st.caption(f"Marks: {period.marks}; positions and equity held.")
    st.bar_chart(period.daily["carry"])
    table(period.daily, "carry_period")
