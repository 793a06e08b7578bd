"""What every dashboard page shares: the user's book and prices, errors, tables, the report.

Pages gather widget values, call ONE workflow per job (:mod:`astra.workflows`) with the
same inputs the CLI would pass, and render the result. The book and the price file a
user uploads live in the session, shared by every page until they clear them; only
uploaded files and the bundled examples are ever read (no path typed on a page reaches
the file system). An :class:`~astra.errors.AstraError` is shown once, never a traceback.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from astra.dashboard import MAX_UPLOAD_MB
from astra.errors import AstraError, InputError
from astra.workflows.book import BookText

__all__ = [
    "SAMPLE_BOOK_TEXT",
    "attempt",
    "book_input",
    "check_tickers",
    "downloads",
    "page",
    "price_source",
    "source_label",
    "table",
]

_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-=^]{0,19}$")
SAMPLE_BOOK_TEXT = (Path(__file__).parents[1] / "examples" / "book.toml").read_text(encoding="utf-8")
_SAMPLE = BookText(SAMPLE_BOOK_TEXT, "toml", "sample-client")


# ------------------------------------------------------------------ errors
def _once(message: str, show: Callable[[str], Any]) -> None:
    shown = st.session_state.setdefault("_errors_shown", set())
    if message not in shown:
        shown.add(message)
        show(message)


def attempt(job: Callable[[], Any]) -> Any | None:
    """Run ``job``; an AstraError (or a warning ASTRA raises on purpose) is shown once per page run; None on error.

    However many jobs on a page hit the same problem, the user reads it once.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = job()
    except AstraError as exc:
        _once(str(exc), lambda text: st.error(text, icon="⚠️"))
        return None
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            _once(str(warning.message), st.warning)
    return result


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


# ------------------------------------------------------------------ uploads, kept for the session
@st.cache_resource(show_spinner=False)
def _uploads_dir() -> Path:
    """One private directory per server process for uploaded files, removed when the server stops."""
    path = Path(tempfile.mkdtemp(prefix="astra-uploads-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _keep(upload) -> Path:
    """The upload's bytes in a file named by their hash: one copy per distinct file, never one per rerun."""
    payload = upload.getvalue()
    if len(payload) > MAX_UPLOAD_MB * 2**20:
        raise InputError(f"{upload.name}: {len(payload) / 2**20:.1f} MB is over the {MAX_UPLOAD_MB} MB upload limit")
    suffix = Path(upload.name).suffix.lower()
    target = _uploads_dir() / f"{hashlib.sha256(payload).hexdigest()[:32]}{suffix}"
    if not target.exists():
        target.write_bytes(payload)
    return target


def book_input() -> BookText:
    """The session's book: the last good upload or edit, else the sample client book."""
    return st.session_state.get("book", _SAMPLE)


def price_source() -> str:
    """The session's price source for workflows: ``sample``, or the uploaded price file."""
    upload = st.session_state.get("prices")
    return upload["source"] if upload else "sample"


def source_label(source: str | None = None) -> str:
    """What to call the price source on a page (an upload by its file name, never a server path)."""
    upload = st.session_state.get("prices")
    if upload and (source is None or source == upload["source"]):
        return f"uploaded {upload['name']}"
    return source or "sample"


def set_book(book: BookText, *, equity: float | None = None) -> bool:
    """Make ``book`` the session's book if it opens (marks included); else show why and keep the old one."""
    from astra.workflows.book import open_book

    opened = attempt(lambda: open_book(book, source=price_source(), equity=equity))
    if opened is None:
        return False
    st.session_state["book"] = book
    st.session_state["book_equity"] = equity
    st.session_state["book_version"] = st.session_state.get("book_version", 0) + 1
    return True


def _sidebar_book() -> None:
    side = st.sidebar
    book = book_input()
    side.subheader("Book")
    side.caption(f"In use: **{book.name}** ({book.fmt.upper()}) — every page uses it until you clear it.")
    upload = side.file_uploader("Upload a book (TOML, or CSV ticker,quantity[,price])", type=["toml", "csv"],
                                key="book-upload")  # fmt: skip
    equity = None
    if upload is not None and upload.name.lower().endswith(".csv"):
        equity = side.number_input("Account equity for the CSV book (USD)", 1.0, 1e12, 1_000_000.0, 10_000.0,
                                   key="book-csv-equity")  # fmt: skip
    if upload is not None and st.session_state.get("book_upload_id") != (upload.file_id, equity):
        st.session_state["book_upload_id"] = (upload.file_id, equity)
        try:
            text = upload.getvalue().decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
            attempt(lambda: (_ for _ in ()).throw(InputError(f"{upload.name}: the book is not UTF-8 text")))
        if text is not None:
            fmt = "csv" if upload.name.lower().endswith(".csv") else "toml"
            set_book(BookText(text, fmt, Path(upload.name).stem), equity=equity)
    if book is not _SAMPLE and side.button("Clear: use the sample book", key="book-clear"):
        st.session_state["book"] = _SAMPLE
        st.session_state["book_equity"] = None
        st.session_state["book_version"] = st.session_state.get("book_version", 0) + 1
        st.rerun()


def _sidebar_prices() -> None:
    side = st.sidebar
    side.subheader("Prices")
    side.caption(f"In use: **{source_label()}**")
    upload = side.file_uploader("Upload prices (CSV or Parquet: date,T1,T2,… or date,ticker,close)",
                                type=["csv", "parquet"], key="prices-upload")  # fmt: skip
    if upload is not None and st.session_state.get("prices_upload_id") != upload.file_id:
        st.session_state["prices_upload_id"] = upload.file_id

        def keep():
            from astra.workflows.data import price_data

            path = _keep(upload)
            kind = "parquet" if path.suffix == ".parquet" else "csv"
            source = f"{kind}:{path}"
            price_data((), source=source)  # validate before it replaces the current prices
            return {"source": source, "name": upload.name}

        kept = attempt(keep)
        if kept is not None:
            st.session_state["prices"] = kept
    if st.session_state.get("prices") and side.button("Clear: use the offline sample", key="prices-clear"):
        st.session_state["prices"] = None
        st.rerun()


@st.cache_data(show_spinner="Building the report…", max_entries=2)
def _report(book: BookText, equity: float | None, source: str) -> bytes:
    """The full HTML report for the session's book and prices (the report workflow in a scratch directory)."""
    from astra.workflows import run_demo

    with tempfile.TemporaryDirectory(prefix="astra-report-") as tmp:
        run_demo(Path(tmp), book=book, source=source, equity=equity)
        return (Path(tmp) / "report.html").read_bytes()


def _sidebar_report() -> None:
    side = st.sidebar
    side.subheader("Report")
    if side.button("Build the HTML report", key="build-report"):
        html = attempt(lambda: _report(book_input(), st.session_state.get("book_equity"), price_source()))
        if html is not None:
            side.download_button("Download report.html", html, "report.html", "text/html", key="report-dl")


def page(title: str, caption: str | None = None) -> None:
    """Start a page: its title, and the sidebar every page shares (book, prices, report)."""
    st.session_state["_errors_shown"] = set()
    st.title(title)
    if caption:
        st.caption(caption)
    _sidebar_book()
    _sidebar_prices()
    _sidebar_report()


# ------------------------------------------------------------------ tables
def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def downloads(frame: pd.DataFrame, name: str) -> None:
    """CSV and Parquet download buttons for ``frame`` (the raw numbers, not the display strings)."""
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
