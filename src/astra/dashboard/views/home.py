"""Overview: what each page answers, and the book and prices the session is using."""

import streamlit as st

from astra.dashboard._common import attempt, book_input, page, price_source, source_label
from astra.workflows.book import show_book

page("ASTRA", "Adaptive Statistical Trading & Risk Architecture: offline sample by default, nothing touches the "
     "network unless you choose Yahoo.")  # fmt: skip
book = attempt(lambda: show_book(book_input(), source=price_source()))
if book is not None:
    m = st.columns(4)
    m[0].metric("Book", book.name)
    m[1].metric("Gross", f"${book.gross:,.0f}")
    m[2].metric("Net", f"${book.net:,.0f}")
    m[3].metric("Leverage", f"{book.leverage:.2f}x")
    st.caption(f"Marks: {book.marks}. Prices: {source_label()}.")
st.markdown(
    "- **Data**: prices, cumulative returns, the data-quality report and the benchmark rate.\n"
    "- **Book & funding**: exposures, carry by component, position and convention, margin, carry over a period.\n"
    "- **Optimiser**: funding-aware long/short construction under prime-brokerage limits.\n"
    "- **Risk**: VaR and ES by method with standard errors, components, stress tests, backtests.\n"
    "- **Stat-arb** and **Pair scanner**: Kalman hedge ratios, signals and costed back-tests; every pair ranked.\n\n"
    "Upload your own book or prices in the sidebar: every page uses them until you clear them. "
    "The same figures come from the command line (`astra … --json`) and the HTML report."
)
