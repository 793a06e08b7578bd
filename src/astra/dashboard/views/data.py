"""Data: prices and cumulative returns, the data-quality report, the benchmark rate."""

import streamlit as st

from astra.dashboard._common import attempt, check_tickers, page, price_source, public, source_label
from astra.dashboard._show import metric, shown_table, table
from astra.reporting import figures
from astra.reporting.tables import cumulative_table
from astra.workflows import cumulative_returns
from astra.workflows.common import DEFAULT_BENCHMARK_RATE
from astra.workflows.data import benchmark_rates, price_data

page("Data", "Cleaned closes aligned to the XNYS calendar (forward-filled at most 5 days, never backwards).")
origin = st.radio("Prices from", ["this session's prices", "Yahoo (network)"], horizontal=True, key="data-origin")
source = price_source() if origin.startswith("this") else "yahoo"
uploaded = source != "sample" and source != "yahoo"
# an uploaded file opens on all its names; the sample on five of its twenty
text = st.text_input("Tickers (blank: all the file has)", "" if uploaded else "AAPL MSFT JPM BAC XOM",
                     key="data-tickers-upload" if uploaded else "data-tickers")  # fmt: skip
left, right = st.columns(2)
start = left.text_input("Start (YYYY-MM-DD)", "2018-01-01", key="data-start")
end = right.text_input("End (YYYY-MM-DD, blank = latest)", "", key="data-end")

data = attempt(lambda: price_data(check_tickers(text, maximum=60) if text.strip() else (), source=source,
                                  start=start, end=end))  # fmt: skip
if data is not None:
    prices = data.prices
    m = st.columns(4)
    metric(m[0], "Names", prices.shape[1], "count")
    metric(m[1], "Sessions", len(prices), "count")
    metric(m[2], "First session", prices.index[0], "date")
    metric(m[3], "Last session", prices.index[-1], "date")
    st.plotly_chart(figures.cumulative_returns(prices), key="cumulative")
    if data.quality is not None:
        st.info(f"Data quality: {public(data.quality.summary())}")
    for note in data.meta.notes:
        st.caption(public(note))
    shown_table(cumulative_table(cumulative_returns(prices)), cumulative_returns(prices), "trailing_returns",
                caption="Buy-and-hold return over the trailing month, year, five years and the whole window",
                index_name="ticker")  # fmt: skip
    shown = prices.tail(250)
    table(shown, "prices", kinds=dict.fromkeys(shown.columns, "money"), index="date", index_name="date",
          caption=f"Closes (USD), {source_label(source)}: last {len(shown)} of {len(prices)} sessions",
          export=prices)  # fmt: skip

st.subheader("Benchmark rate (money-market yield, ACT/360)")
kind = st.selectbox("Rate", ["default (flat 4.30 %)", "flat", "synthetic (Vasicek)", "^IRX (network)"],
                    key="rate-kind")  # fmt: skip
flat = st.number_input("Flat rate (decimal: 0.043 = 4.30 %)", -0.05, 0.5, DEFAULT_BENCHMARK_RATE, 0.0005,
                       format="%.4f", key="rate-flat", disabled=kind != "flat")  # fmt: skip
rate, rate_source = {
    "flat": (flat, None),
    "synthetic (Vasicek)": (None, "synthetic"),
    "^IRX (network)": (None, "irx"),
}.get(kind, (None, None))
series = attempt(lambda: benchmark_rates(rate, rate_source, start=start, end=end))
if series is not None:
    m = st.columns(3)
    metric(m[0], f"Latest ({series.rates.index[-1].date()})", series.last, "pct", help=series.convention)
    metric(m[1], "Low", float(series.rates.min()), "pct")
    metric(m[2], "High", float(series.rates.max()), "pct")
    st.plotly_chart(figures.rate_series(series), key="rates")
    for note in series.notes:
        st.caption(public(note))
