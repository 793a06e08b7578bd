"""ASTRA dashboard entry point (``streamlit run``): one navigation over the module pages."""

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).with_name("views")  # not "pages/": that name switches on Streamlit's legacy auto-pages

st.set_page_config(page_title="ASTRA", page_icon="📈", layout="wide")
navigation = st.navigation(
    [
        st.Page(VIEWS / "data.py", title="Data", url_path="data", default=True),
        st.Page(VIEWS / "funding.py", title="Book & funding", url_path="funding"),
        st.Page(VIEWS / "optimizer.py", title="Optimiser", url_path="optimizer"),
        st.Page(VIEWS / "risk.py", title="Risk", url_path="risk"),
        st.Page(VIEWS / "statarb.py", title="Stat-arb", url_path="statarb"),
        st.Page(VIEWS / "scanner.py", title="Pair scanner", url_path="scanner"),
    ]
)
st.sidebar.caption("ASTRA · offline sample by default · errors show here, never a traceback")
navigation.run()
