"""Pair scanner: universe, FDR level, ranked table; open a pair in Stat-arb."""

import zlib

import streamlit as st

from astra import format as fmt
from astra.dashboard._common import attempt, page, price_source, source_label
from astra.dashboard._show import shown_table
from astra.reporting.tables import pair_scan_table
from astra.workflows.data import available_tickers
from astra.workflows.statarb import statarb_scan

page("Pair scanner", "Engle–Granger on log prices for every pair, MacKinnon p-values, Benjamini–Hochberg q-values.")
source = price_source()
names = attempt(lambda: available_tickers(source)) or []
# one selection per price source (all its names to start with); the key never carries a server path
universe = st.multiselect(
    f"Universe ({source_label()})", names, names, key=f"scan-universe-{zlib.crc32(source.encode())}"
)
c1, c2, c3 = st.columns(3)
start = c1.text_input("From", "2018-01-01", key="scan-start")
fdr = c2.slider("False-discovery rate", 0.01, 0.5, 0.10, 0.01)
everything = c3.checkbox("List every pair", value=True)

with st.spinner("Scanning every pair…"):
    report = attempt(
        lambda: statarb_scan(universe, source=source, start=start or None, fdr=fdr, only_discoveries=not everything)
    )
if report is not None:
    result = report.result
    st.write(f"{fmt.count(result.tested)} pairs tested, {fmt.count(len(result.discoveries))} discoveries at an "
             f"FDR of {fmt.pct(fdr, 0)}")  # fmt: skip
    shown_table(pair_scan_table(result.table, top=max(len(result.table), 1)), report.to_frame(), "pair_scan",
                text_columns=["y", "x"], caption="Ranked by p-value; the q-value is the FDR at which the pair "
                "would be a discovery")  # fmt: skip
    if not result.table.empty:
        labels = [f"{r.y} / {r.x}" for r in result.table.itertuples()]
        choice = st.selectbox("Pair", labels)
        if st.button("Open in Stat-arb"):
            y_leg, x_leg = (part.strip() for part in choice.split("/"))
            st.session_state["pair_x"], st.session_state["pair_y"] = x_leg, y_leg
            st.switch_page("views/statarb.py")
