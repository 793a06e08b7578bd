"""Overview: what each page answers, and the book and prices the session is using."""

import streamlit as st

from astra import format as fmt
from astra.dashboard._common import attempt, book_input, page, price_source, public, source_label
from astra.dashboard._show import metric, table
from astra.workflows.book import show_book

page("ASTRA", "Adaptive Statistical Trading & Risk Architecture: offline sample by default, nothing touches the "
     "network unless you choose Yahoo.")  # fmt: skip
book = attempt(lambda: show_book(book_input(), source=price_source(), equity=st.session_state.get("book_equity")))
if book is not None:
    st.subheader(f"Book in use: {book.name}")
    m = st.columns(5)
    metric(m[0], "Gross", book.gross, "money", digits=0)
    metric(m[1], "Net", book.net, "money", digits=0)
    metric(m[2], "Equity", book.equity, "money", digits=0)
    m[3].metric("Leverage", f"{fmt.ratio(book.leverage)}×", help="gross ÷ equity")
    metric(m[4], "Positions", len(book.tickers), "count")
    st.caption(f"Marks: {public(book.marks)}. Prices: {source_label()}.")
    table(book.to_frame(), "book_positions", kinds={"quantity": "shares", "price": "money",
          "market_value": ("money", {"digits": 0}), "weight": ("weight", {"digits": 1})},
          labels={"quantity": "shares", "market_value": "market value", "weight": "weight of gross"},
          index_name="ticker")  # fmt: skip
st.markdown(
    "- **Data**: prices, cumulative returns, the data-quality report and the benchmark rate.\n"
    "- **Book & funding**: exposures, carry by component, position and convention, margin, carry over a period.\n"
    "- **Optimiser**: funding-aware long/short construction under prime-brokerage limits.\n"
    "- **Risk**: VaR and ES by method with standard errors, components, stress tests, backtests.\n"
    "- **Stat-arb** and **Pair scanner**: Kalman hedge ratios, signals and costed back-tests; every pair ranked.\n\n"
    "Upload your own book or prices in the sidebar: every page uses them until you clear them. "
    "The same figures come from the command line (`astra … --json`) and the HTML report."
)
