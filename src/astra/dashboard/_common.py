"""What every dashboard page shares: the user's book and prices, errors, the report.

Pages gather widget values, call ONE workflow per job (:mod:`astra.workflows`) with the
same inputs the CLI would pass, and render the result (:mod:`astra.dashboard._show`).
The book and the price file a user uploads live in the session, shared by every page
until they clear them; only uploaded files and the bundled examples are ever read (no
path typed on a page reaches the file system), and no server path is ever shown (an
upload is called by its file name). An :class:`~astra.errors.AstraError` is shown once,
never a traceback.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from astra.dashboard import MAX_UPLOAD_MB
from astra.errors import AstraError, InputError, rename_parameters
from astra.workflows.book import BookText

__all__ = [
    "SAMPLE_BOOK_TEXT",
    "attempt",
    "book_input",
    "book_name",
    "check_tickers",
    "page",
    "price_source",
    "public",
    "set_book",
    "source_label",
]

_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-=^]{0,19}$")
SAMPLE_BOOK_TEXT = (Path(__file__).parents[1] / "examples" / "book.toml").read_text(encoding="utf-8")
_SAMPLE = BookText(SAMPLE_BOOK_TEXT, "toml", "sample-client")
_SAMPLE_NAME = "sample-client"
# a book typed or uploaded is read from a scratch copy (astra-book-<random>/<name>.toml): its folder is noise
_SCRATCH_BOOK = re.compile(r"(?:[A-Za-z]:)?[\\/][^\s'\"(),]*?astra-book-[^\\/\s]+[\\/]")
_OLD_UPLOAD = re.compile(r"(?:(?:csv|parquet):)?(?:[A-Za-z]:)?[\\/][^\s'\"(),]*?astra-uploads-[^\s'\"(),]+")
# workflows name their parameters (astra.errors.rename_parameters); a page names its own controls instead
_PHRASES = [
    (re.compile(r"\s*\(set rate or rate_source\)"), ""),
    (re.compile(r"give rate 0\.043 \(flat\) or rate_source csv:PATH"), "choose a flat benchmark rate"),
    (re.compile(r"(?:--)?rate or (?:--)?rate[_-]source"), "a benchmark rate"),
    (
        re.compile(r"use (?:--)?split(?: \(a date\)| DATE) for a walk-forward test"),
        "set a walk-forward split to test out of sample",
    ),
    (re.compile(r"widen (?:--)?start/(?:--)?end"), "start the history earlier"),
]
_LABELS = {"split": "walk-forward split", "entry": "entry |z|", "exit": "exit |z|", "stop": "stop |z|",
           "fdr": "false-discovery rate", "rate": "benchmark rate", "universe": "universe", "model": "model",
           "level": "level", "scenarios": "MC scenarios", "max_weight": "max |weight|", "tc_bps": "trading cost",
           "cost_bps": "trading cost", "gross": "gross leverage", "gamma": "risk aversion γ",
           "vol_target": "vol target", "net": "net band"}  # fmt: skip
_HINTS = {
    "not in the offline sample": "Upload a price file that has them (sidebar → Prices), or take them out of the book.",
}


# ------------------------------------------------------------------ what the user reads
def public(text: str) -> str:
    """``text`` as a page shows it: an upload by its file name (no server path), the page's controls for CLI flags."""
    upload = st.session_state.get("prices")
    if upload:
        source = upload["source"]
        text = text.replace(source, upload["name"]).replace(source.split(":", 1)[1], upload["name"])
    text = _SCRATCH_BOOK.sub("", text)
    text = _OLD_UPLOAD.sub("an earlier upload", text)
    for pattern, words in _PHRASES:
        text = pattern.sub(words, text)
    return rename_parameters(text, _LABELS)


def _once(message: str, show: Callable[[str], Any]) -> None:
    shown = st.session_state.setdefault("_errors_shown", set())
    if message not in shown:
        shown.add(message)
        show(message)


def _error(message: str) -> None:
    _once(message, lambda text: st.error(text, icon="⚠️"))


def _explain(exc: AstraError) -> str:
    message = public(str(exc))
    hints = [hint for key, hint in _HINTS.items() if key in message]
    return " ".join([message.rstrip(". ") + "." if hints else message, *hints])


def _refused(file_name: str, message: str) -> str:
    """Why an upload was refused, naming the file once."""
    for prefix in (f"{file_name}: ", f"{file_name}, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return f"{file_name} was not loaded: {message}"


def _run(job: Callable[[], Any]) -> tuple[Any, str | None]:
    """``job()`` and its error message (None when it worked); ASTRA's own warnings are shown once."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = job()
    except AstraError as exc:
        return None, _explain(exc)
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            _once(public(str(warning.message)), st.warning)
    return result, None


def attempt(job: Callable[[], Any]) -> Any | None:
    """Run ``job``; an AstraError (or a warning ASTRA raises on purpose) is shown once per page run; None on error.

    However many jobs on a page hit the same problem, the user reads it once.
    """
    result, error = _run(job)
    if error is not None:
        _error(error)
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


# ------------------------------------------------------------------ the session's book and prices
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


def book_name() -> str:
    """The session book's account name (``sample-client`` for the sample)."""
    return st.session_state.get("book_name", _SAMPLE_NAME)


def price_source() -> str:
    """The session's price source for workflows: ``sample``, or the uploaded price file."""
    upload = st.session_state.get("prices")
    return upload["source"] if upload else "sample"


def source_label(source: str | None = None) -> str:
    """What to call the price source on a page (an upload by its file name, never a server path)."""
    upload = st.session_state.get("prices")
    if upload and (source is None or source == upload["source"]):
        return f"uploaded {upload['name']}"
    return public(source or "sample")


def _open_error(book: BookText, equity: float | None) -> tuple[str | None, str | None]:
    """(account name, None) when ``book`` opens on the session's prices, else (None, why not)."""
    from astra.workflows.book import open_book

    opened, error = _run(lambda: open_book(book, source=price_source(), equity=equity))
    return (None, error) if opened is None else (opened.book.name, None)


def set_book(book: BookText, *, equity: float | None = None) -> bool:
    """Make ``book`` the session's book if it opens (marks included); else show why once and keep the old one."""
    name, error = _open_error(book, equity)
    if error is not None:
        _error(error)
        return False
    _store_book(book, equity, name)
    return True


def _store_book(book: BookText | None, equity: float | None, name: str | None) -> None:
    if book is None:
        for key in ("book", "book_equity", "book_name"):
            st.session_state.pop(key, None)
    else:
        st.session_state.update(book=book, book_equity=equity, book_name=name)
    st.session_state["book_version"] = st.session_state.get("book_version", 0) + 1


def _read_upload(upload) -> BookText:
    try:
        text = upload.getvalue().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{upload.name}: the book is not UTF-8 text") from None
    fmt = "csv" if upload.name.lower().endswith(".csv") else "toml"
    return BookText(text, fmt, Path(upload.name).stem)


def _sidebar_book() -> None:
    side = st.sidebar
    side.subheader("Book")
    in_use = side.empty()
    uploads = st.session_state.get("book_uploads", 0)  # a new key empties the uploader after Clear
    upload = side.file_uploader("Upload a book (TOML, or CSV ticker,quantity[,price])", type=["toml", "csv"],
                                key=f"book-upload-{uploads}")  # fmt: skip
    equity = None
    if upload is not None and upload.name.lower().endswith(".csv"):
        equity = side.number_input("Account equity for the CSV book (USD)", 1.0, 1e12, 1_000_000.0, 10_000.0,
                                   key="book-csv-equity")  # fmt: skip
    if upload is not None:
        if st.session_state.get("book_upload_id") != (upload.file_id, equity):
            st.session_state["book_upload_id"] = (upload.file_id, equity)
            book, error = _run(lambda: _read_upload(upload))
            name = None
            if book is not None:
                name, error = _open_error(book, equity)
            if error is None:
                _store_book(book, equity, name)
            st.session_state["book_upload_error"] = error
        # a refused file stays in the uploader: say why on every run until it is removed or replaced
        if st.session_state.get("book_upload_error"):
            _error(_refused(upload.name, st.session_state["book_upload_error"]))
    in_use.caption(f"In use: **{book_name()}** ({book_input().fmt.upper()}) — every page uses it until you clear it.")
    if "book" in st.session_state and side.button("Clear: use the sample book", key="book-clear"):
        _store_book(None, None, None)
        st.session_state["book_uploads"] = uploads + 1
        st.session_state.pop("book_upload_id", None)
        st.rerun()


def _sidebar_prices() -> None:
    side = st.sidebar
    side.subheader("Prices")
    in_use = side.empty()
    uploads = st.session_state.get("price_uploads", 0)
    upload = side.file_uploader("Upload prices (CSV or Parquet: date,T1,T2,… or date,ticker,close)",
                                type=["csv", "parquet"], key=f"prices-upload-{uploads}")  # fmt: skip
    if upload is not None:
        if st.session_state.get("prices_upload_id") != upload.file_id:
            st.session_state["prices_upload_id"] = upload.file_id

            def keep():
                from astra.workflows.data import price_data

                path = _keep(upload)
                source = f"{'parquet' if path.suffix == '.parquet' else 'csv'}:{path}"
                try:
                    price_data((), source=source)  # validated before it replaces the current prices
                except AstraError as exc:  # name the file as the user knows it
                    raise type(exc)(str(exc).replace(source, upload.name).replace(str(path), upload.name)) from None
                return {"source": source, "name": upload.name}

            kept, error = _run(keep)
            if kept is not None:
                st.session_state["prices"] = kept
            st.session_state["prices_upload_error"] = error
        if st.session_state.get("prices_upload_error"):
            _error(_refused(upload.name, st.session_state["prices_upload_error"]))
    in_use.caption(f"In use: **{source_label()}**")
    if st.session_state.get("prices") and side.button("Clear: use the offline sample", key="prices-clear"):
        st.session_state["prices"] = None
        st.session_state["price_uploads"] = uploads + 1
        st.session_state.pop("prices_upload_id", None)
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
    inputs = (book_input(), st.session_state.get("book_equity"), price_source())
    build = side.button("Build the HTML report", key="build-report", help="The session's book and prices, offline")
    if build and attempt(lambda: _report(*inputs)) is not None:
        st.session_state["report_for"] = inputs
    if st.session_state.get("report_for") == inputs:  # built for what is in use now: keep offering it
        html = attempt(lambda: _report(*inputs))
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
