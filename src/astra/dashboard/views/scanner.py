"""Pair scanner: universe, FDR level, ranked table; open a pair in Stat-arb."""

import streamlit as st

from astra.dashboard._common import attempt, cached_prices, table
from astra.data.providers.sample import sample_tickers
from astra.statarb import scan

st.title("Pair scanner")
names = [t for t in sample_tickers() if t != "SP500"]
universe = st.multiselect("Universe (offline sample)", names, names)
c1, c2, c3 = st.columns(3)
start = c1.text_input("From", "2018-01-01", key="scan-start")
fdr = c2.slider("False-discovery rate", 0.01, 0.5, 0.10, 0.01)
everything = c3.checkbox("List every pair", value=True)

with st.spinner("Scanning every pair…"):
    result = attempt(
        lambda: scan(
            cached_prices(tuple(universe), "sample", start or None, None).prices,
            fdr=fdr,
            only_discoveries=not everything,
        )
    )
if result is not None:
    st.write(f"{result.tested} pairs tested, {len(result.discoveries)} discoveries at FDR {fdr:.0%}")
    table(result.table, "pair_scan")
    if not result.table.empty:
        labels = [f"{r.y} / {r.x}" for r in result.table.itertuples()]
        choice = st.selectbox("Pair", labels)
        if st.button("Open in Stat-arb"):
            y_leg, x_leg = (part.strip() for part in choice.split("/"))
            st.session_state["pair_x"], st.session_state["pair_y"] = x_leg, y_leg
            st.switch_page("views/statarb.py")
