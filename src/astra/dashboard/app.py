"""ASTRA dashboard entry point (``streamlit run``): one navigation over the module pages.

Every page renders the shared sidebar itself (book, prices, report), so pages also work
when run alone (Streamlit's AppTest). ``astra dashboard`` serves this with the toolbar
in viewer mode (no Deploy button) and the upload size limit.
"""

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).with_name("views")  # not "pages/": that name switches on Streamlit's legacy auto-pages

st.set_page_config(page_title="ASTRA", page_icon="📈", layout="wide")
navigation = st.navigation(
    [
        st.Page(VIEWS / "home.py", title="Overview", url_path="overview", default=True),
        st.Page(VIEWS / "data.py", title="Data", url_path="data"),
        st.Page(VIEWS / "funding.py", title="Book & funding", url_path="funding"),
        st.Page(VIEWS / "optimizer.py", title="Optimiser", url_path="optimizer"),
        st.Page(VIEWS / "risk.py", title="Risk", url_path="risk"),
        st.Page(VIEWS / "statarb.py", title="Stat-arb", url_path="statarb"),
        st.Page(VIEWS / "scanner.py", title="Pair scanner", url_path="scanner"),
    ]
)
navigation.run()
