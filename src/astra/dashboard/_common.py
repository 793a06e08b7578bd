"""Shared pieces of the dashboard pages: error display, downloads, cached workflows, input checks.

Pages only gather widget values, call :mod:`astra.workflows` (through the cached
wrappers here) and render; an :class:`~astra.errors.AstraError` becomes ``st.error``
with its message, never a traceback.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from astra.errors import AstraError, InputError

__all__ = ["SAMPLE_BOOK_TEXT", "attempt", "book_from_text", "check_tickers", "downloads", "table"]

_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-=^]{0,19}$")
SAMPLE_BOOK_TEXT = (Path(__file__).parents[1] / "examples" / "book.toml").read_text(encoding="utf-8")


def attempt(job: Callable[[], Any]) -> Any | None:
    """Run ``job``; show an AstraError as a message on the page and return None."""
    try:
        return job()
    except AstraError as exc:
        st.error(str(exc), icon="⚠️")
        return None


def check_tickers(text: str, *, minimum: int = 1, maximum: int = 200) -> list[str]:
    """Tickers typed by a user: upper-cased, validated (pattern, length, count), de-duplicated."""
    names = [t.strip().upper() for t in re.split(r"[\s,;]+", text or "") if t.strip()]
    bad = [t for t in names if not _TICKER.match(t)]
    if bad:
        raise InputError(f"not a ticker: {', '.join(repr(b) for b in bad[:5])} (letters, digits, . - ^ =; ≤ 20)")
    names = list(dict.fromkeys(names))
    if not minimum <= len(names) <= maximum:
        raise InputError(f"give between {minimum} and {maximum} tickers, got {len(names)}")
    return names


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def downloads(frame: pd.DataFrame, name: str) -> None:
    """CSV and Parquet download buttons for ``frame``."""
    left, right = st.columns(2)
    left.download_button("CSV", frame.to_csv().encode("utf-8"), f"{name}.csv", "text/csv", key=f"{name}-csv")
    right.download_button("Parquet", _parquet_bytes(frame), f"{name}.parquet", "application/octet-stream",
                          key=f"{name}-parquet")  # fmt: skip


def table(frame: pd.DataFrame, name: str, *, caption: str | None = None) -> None:
    """A table with its download buttons."""
    if caption:
        st.caption(caption)
    st.dataframe(frame, width="stretch")
    downloads(frame, name)


def book_from_text(text: str, suffix: str = ".toml"):
    """Parse a book typed or uploaded on a page (TOML, or CSV with the equity given separately)."""
    from astra.book import load_book

    if not text.strip():
        raise InputError("the book is empty: paste a TOML book or upload one")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"book{suffix}"
        path.write_text(text, encoding="utf-8")
        return load_book(path)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_prices(tickers: tuple[str, ...] | None, source: str, start, end):
    from astra.data import load_prices

    return load_prices(list(tickers) if tickers else None, source, start, end)


@st.cache_data(show_spinner="Building the report…", max_entries=2)
def cached_report(book_text: str) -> bytes:
    """The full HTML report for a book (runs the demo workflow in a scratch directory)."""
    from astra.workflows import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        book_path = Path(tmp) / "book.toml"
        book_path.write_text(book_text, encoding="utf-8")
        run_demo(Path(tmp) / "out", book=book_path)
        return (Path(tmp) / "out" / "report.html").read_bytes()
