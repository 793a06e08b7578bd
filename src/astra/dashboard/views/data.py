"""Data: prices and cumulative returns, the data-quality report, the benchmark rate."""

import tempfile
from pathlib import Path

import streamlit as st

from astra.dashboard._common import SAMPLE_BOOK_TEXT, attempt, cached_prices, cached_report, check_tickers, table
from astra.reporting import figures

st.title("Data")
source = st.selectbox("Source", ["sample", "yahoo", "upload"], help="sample is offline; yahoo needs the network")
upload = st.file_uploader("Price file (CSV or Parquet: date,T1,T2,… or date,ticker,close)", type=["csv", "parquet"]) \
    if source == "upload" else None  # fmt: skip
text = st.text_input("Tickers", "AAPL MSFT JPM BAC XOM", key="data-tickers")
left, right = st.columns(2)
start = left.text_input("Start (YYYY-MM-DD)", "2018-01-01", key="data-start")
end = right.text_input("End (YYYY-MM-DD, blank = latest)", "", key="data-end")


def load():
    names = tuple(check_tickers(text, maximum=60))
    if source == "upload":
        if upload is None:
            return None
        suffix = Path(upload.name).suffix.lower()
        with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
            handle.write(upload.getvalue())
        kind = "parquet" if suffix == ".parquet" else "csv"
        return cached_prices(names, f"{kind}:{handle.name}", start or None, end or None)
    return cached_prices(names, source, start or None, end or None)


data = attempt(load)
if data is not None:
    st.plotly_chart(figures.cumulative_returns(data.prices), key="cumulative")
    if data.quality is not None:
        st.info(f"Data quality: {data.quality.summary()}")
    for note in data.meta.notes:
        st.caption(note)
    table(data.prices.tail(250), "prices", caption=f"{data.meta.source}: last 250 rows of {len(data.prices)}")

st.subheader("Benchmark rate (money-market yield, ACT/360)")
rate_source = st.text_input("Rate source", "flat:0.043", help="irx (network), flat:R, csv:PATH, synthetic")


def rates():
    from astra.data import load_rates

    return load_rates(rate_source, start or None, end or None)


series = attempt(rates)
if series is not None:
    st.metric("Latest", f"{series.last:.4%}", help=series.convention)
    # plotly, like every other chart: one chart library for the browser to load on the first page
    st.plotly_chart(figures.rate_series(series), key="rates")

st.sidebar.subheader("Full report")
if st.sidebar.button("Build the HTML report", key="build-report"):
    report = attempt(lambda: cached_report(st.session_state.get("book_text", SAMPLE_BOOK_TEXT)))
    if report is not None:
        st.sidebar.download_button("Download report.html", report, "report.html", "text/html", key="report-dl")
