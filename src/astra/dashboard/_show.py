"""How dashboard pages show numbers: every table and metric through :mod:`astra.format`.

A table is shown with the strings :func:`astra.format.format_frame` writes for its declared
kinds (the report's rounding: money in $ with separators, rates in %, weights in %, plain
dates, solver noise as 0), while the grid keeps the raw numbers underneath so a column
still sorts by value. Tables the HTML report also prints come from its builders in
:mod:`astra.reporting.tables`, so both show the same figures. Downloads carry the raw
numbers (:func:`astra.format.export_frame`: a named index, ISO dates, noise zeroed).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from astra import format as fmt

__all__ = ["downloads", "metric", "shown_table", "table"]


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def downloads(frame: pd.DataFrame, name: str, *, index_name: str | None = None) -> None:
    """CSV and Parquet download buttons for ``frame``: the raw numbers, a named index, ISO dates in the CSV."""
    csv = fmt.export_frame(frame, index_name=index_name).to_csv().encode("utf-8")
    parquet = _parquet_bytes(fmt.export_frame(frame, index_name=index_name, iso_dates=False))
    left, right, _ = st.columns([1, 1, 5])
    left.download_button("CSV", csv, f"{name}.csv", "text/csv", key=f"{name}-csv", icon=":material/download:")
    right.download_button(
        "Parquet",
        parquet,
        f"{name}.parquet",
        "application/octet-stream",
        key=f"{name}-parquet",
        icon=":material/download:",
    )


def _lookup(raw: Iterable[Any], texts: Iterable[str]) -> Callable[[Any], str]:
    """A cell formatter that shows each raw value as ``format_frame`` wrote it (one string per value in a column)."""
    mapping: dict[Any, str] = {}
    for value, text in zip(raw, texts, strict=True):
        if fmt.is_missing(value):
            continue
        try:
            mapping[value] = text
        except TypeError:  # unhashable cell: shown with str()
            continue

    def show(value: Any) -> str:
        if fmt.is_missing(value):
            return fmt.MISSING
        try:
            return mapping[value]
        except (KeyError, TypeError):
            return fmt.text(value)

    return show


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    kinds: Mapping[Any, Any] | None = None,
    index: Any = None,
    labels: Mapping[Any, str] | None = None,
    caption: str | None = None,
    index_name: str | None = None,
    export: pd.DataFrame | None = None,
    height: int | str = "auto",
    hide_index: bool = False,
) -> None:
    """Show ``frame`` formatted by ``kinds`` (see :func:`astra.format.format_frame`), with its downloads.

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw numbers in ASTRA's units (USD, shares, decimals).
    kinds, index
        Column → kind and the index's kind, as :func:`astra.format.format_frame` takes them.
    labels : mapping, optional
        Column → the label shown (downloads keep the column names).
    index_name : str, optional
        Name of an unnamed index in the downloads (``ticker``, ``date``…).
    export : pandas.DataFrame, optional
        What the downloads hold, when it differs from ``frame`` (e.g. more rows).
    hide_index : bool
        Leave the index out of the grid (a plain row number); the downloads keep it.
    """
    if caption:
        st.caption(caption)
    shown = fmt.format_frame(frame, kinds, index=index)
    display = frame.copy()
    display.index = shown.index
    if display.size > int(pd.get_option("styler.render.max_elements")) or not (
        display.columns.is_unique and display.index.is_unique
    ):
        st.dataframe(shown.rename(columns=dict(labels or {})), width="stretch", height=height, hide_index=hide_index)
    else:
        formatters = {column: _lookup(frame[column].tolist(), shown[column].tolist()) for column in frame.columns}
        styled = display.rename(columns=dict(labels or {}))
        formatters = {dict(labels or {}).get(c, c): f for c, f in formatters.items()}
        st.dataframe(styled.style.format(formatters), width="stretch", height=height, hide_index=hide_index)
    downloads(frame if export is None else export, name, index_name=index_name)


def shown_table(
    shown: pd.DataFrame,
    raw: pd.DataFrame | None,
    name: str,
    *,
    text_columns: Iterable[Any] = (),
    caption: str | None = None,
    index_name: str | None = None,
    height: int | str = "auto",
) -> None:
    """Show a table already formatted (a :mod:`astra.reporting.tables` builder); downloads hold ``raw``.

    Numbers are right-aligned, the ``text_columns`` left-aligned, as in the report.
    """
    if caption:
        st.caption(caption)
    text = set(text_columns)
    config = {
        column: st.column_config.TextColumn(alignment="left" if column in text else "right") for column in shown.columns
    }
    st.dataframe(shown, width="stretch", column_config=config, height=height)
    if raw is not None:
        downloads(raw, name, index_name=index_name)


def metric(where, label: str, value: Any, kind: str = "money", *, help: str | None = None, **options) -> None:
    """``st.metric`` with the value written by :func:`astra.format.format_value` (``kind`` and its ``options``)."""
    where.metric(label, fmt.format_value(value, kind, **options), help=help)
