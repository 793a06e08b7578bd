"""Book & funding: edit or upload a book; exposures, carry by component/position/convention, margin, a period."""

import datetime as dt

import pandas as pd
import streamlit as st

from astra.dashboard._common import SAMPLE_BOOK_TEXT, attempt, book_from_text, table
from astra.funding import MODELS
from astra.reporting import figures
from astra.workflows import funding_report

st.title("Book & funding")
uploaded = st.file_uploader("Upload a book (TOML)", type=["toml"])
if uploaded is not None:
    st.session_state["book_text"] = uploaded.getvalue().decode("utf-8", errors="replace")
text = st.text_area("Book (TOML)", st.session_state.get("book_text", SAMPLE_BOOK_TEXT), height=260, key="book-editor")
st.session_state["book_text"] = text

c1, c2, c3 = st.columns(3)
rate = c1.number_input("Benchmark rate (decimal)", 0.0, 0.5, 0.043, 0.0005, format="%.4f")
model = c2.selectbox("Convention", ["(book's)", *MODELS])
day = c3.date_input("Accrual day", dt.date(2022, 12, 23))
c4, c5, c6 = st.columns(3)
period_from = c4.date_input("Period from", dt.date(2022, 12, 1))
period_to = c5.date_input("Period to (exclusive)", dt.date(2022, 12, 30))
compounded = c6.checkbox("Compounded in arrears")

book = attempt(lambda: book_from_text(text))
if book is not None:
    st.subheader(f"{book.name}: exposures")
    m1, m2, m3, m4, m5 = st.columns(5)
    m1.metric("Long", f"${book.long_market_value:,.0f}")
    m2.metric("Short", f"${book.short_market_value:,.0f}")
    m3.metric("Gross", f"${book.gross:,.0f}")
    m4.metric("Net", f"${book.net:,.0f}")
    m5.metric("Leverage", f"{book.leverage:.2f}x")
    table(book.to_frame(), "positions")
    for note in book.notes:
        st.caption(note)
    chosen = None if model == "(book's)" else model
    report = attempt(lambda: funding_report(book, rate=rate, model=chosen, on=pd.Timestamp(day)))
    if report is not None:
        c = report.carry
        st.subheader(f"Daily carry: ${c.daily_carry:,.2f} ({c.model}, {c.accrual_days} day(s) accrued)")
        left, right = st.columns(2)
        left.plotly_chart(figures.carry_components(c), key="components")
        right.plotly_chart(figures.carry_positions(c), key="positions")
        table(c.to_frame(), "carry_by_position")
        st.subheader("The notebook's formula next to the correct conventions")
        st.plotly_chart(figures.model_comparison(report.comparison), key="models")
        st.info(report.comparison["explanation"])
        mg = report.margin
        st.subheader(f"Margin ({mg.regime}): requirement ${mg.requirement:,.0f}, call ${mg.call:,.0f}")
        st.plotly_chart(figures.margin_requirements(mg), key="margin")
        table(pd.DataFrame(mg.to_dict()["regimes"]).T, "margin_regimes")
    period = attempt(
        lambda: (
            funding_report(
                book,
                rate=rate,
                model=chosen,
                start=pd.Timestamp(period_from),
                end=pd.Timestamp(period_to),
                compounded=compounded,
            ).period
        )
    )
    if period is not None:
        how = "compounded" if period.compounded else "simple"
        st.subheader(f"Carry {period.start.date()} to {period.end.date()} ({how}): ${period.total:,.2f}")
        st.bar_chart(period.daily["carry"])
        table(period.daily, "carry_period")
