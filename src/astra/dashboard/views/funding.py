"""Book & funding: the session's book (edit it here); exposures, carry by component/position/convention, margin."""

import datetime as dt

import pandas as pd
import streamlit as st

from astra import format as fmt
from astra.dashboard._common import attempt, book_input, page, price_source, public, set_book
from astra.dashboard._show import metric, shown_table, table
from astra.funding import MODELS
from astra.reporting import figures
from astra.reporting.tables import REGIMES, positions_table
from astra.workflows.book import BookText
from astra.workflows.common import DEFAULT_BENCHMARK_RATE
from astra.workflows.funding import book_funding_frame, funding_report

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
rate = c1.number_input("Benchmark rate (decimal: 0.043 = 4.30 %)", -0.05, 0.5, DEFAULT_BENCHMARK_RATE, 0.0005,
                       format="%.4f")  # fmt: skip
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
    st.subheader(f"{b.name}: exposures")
    m = st.columns(5)
    metric(m[0], "Long", b.long_market_value, digits=0)
    metric(m[1], "Short", b.short_market_value, digits=0)
    metric(m[2], "Gross", b.gross, digits=0)
    metric(m[3], "Net", b.net, digits=0)
    m[4].metric("Leverage", f"{fmt.ratio(b.leverage)}×", help=f"gross ÷ equity ({fmt.money(b.equity, 0)})")
    for note in b.notes or [f"Marks: {report.marks}"]:  # which close marks which names
        st.caption(public(note))
    metric(st, f"Daily carry on {c.day.date()} ({c.model}, {c.accrual_days} day(s) accrued)", c.daily_carry,
           help=f"benchmark {fmt.pct(c.benchmark_rate)} ({report.benchmark_rate_source}); "
                f"{fmt.pct(c.annual_rate_on_gross)} a year on gross")  # fmt: skip
    left, right = st.columns(2)
    left.plotly_chart(figures.carry_components(c), key="components")
    right.plotly_chart(figures.carry_positions(c), key="positions")
    funding_frame = book_funding_frame(report)
    shown_table(positions_table(funding_frame), funding_frame, "book_funding",
                caption="Carry and margin by position (USD for the day; the TOTAL row is the account's)")  # fmt: skip
    st.subheader("The notebook's formula next to the correct conventions")
    st.plotly_chart(figures.model_comparison(report.comparison), key="models")
    st.info(report.comparison["explanation"])
    mg = report.margin
    regime = REGIMES.get(mg.regime, mg.regime)
    call = f"call {fmt.money(mg.call, 0)}" if mg.call > 0 else "no call"
    st.subheader(f"Margin: {call} against {regime} (requirement {fmt.money(mg.requirement, 0)})")
    st.caption(f"Reg T initial {fmt.money(mg.reg_t_initial, 0)} governs new purchases: buying power "
               f"{fmt.money(mg.buying_power, 0)}.")  # fmt: skip
    st.plotly_chart(figures.margin_requirements(mg), key="margin")
    regimes = pd.DataFrame(mg.to_dict()["regimes"]).T.rename_axis("regime")
    table(regimes, "margin_regimes", kinds=dict.fromkeys(regimes.columns, ("money", {"digits": 0})),
          index=lambda name: REGIMES.get(name, name), export=regimes,
          labels={"max_gross": "largest gross this equity carries"})  # fmt: skip


period = attempt(lambda: funding_report(book, start=pd.Timestamp(period_start), end=pd.Timestamp(period_end),
                                        compounded=compounded, compare=False, **inputs).period)  # fmt: skip
if period is not None:
    how = "compounded in arrears" if period.compounded else "simple"
    st.subheader("Carry over a period")
    metric(st, f"Carry {period.start.date()} to {period.end.date()} ({how})", period.total,
           help="each business day accrues its nights up to the next business day")  # fmt: skip
    st.caption(f"Marks: {public(period.marks)}; positions and equity held.")
    st.plotly_chart(figures.period_carry(period.daily), key="period")
    money = ["carry", "long_financing", "credit_interest", "short_rebate", "borrow_fee"]
    kinds = {"accrual_days": "count", "benchmark_rate": "pct", **dict.fromkeys(money, "money"),
             "gross": ("money", {"digits": 0})}  # fmt: skip
    labels = {
        "accrual_days": "nights",
        "benchmark_rate": "benchmark",
        "long_financing": "long financing",
        "credit_interest": "credit interest",
        "short_rebate": "short rebate",
        "borrow_fee": "borrow fee",
    }
    table(period.daily, "carry_period", kinds=kinds, labels=labels, index="date", index_name="date")
