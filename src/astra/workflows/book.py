"""Opening a client book, with one rule for its marks.

A book comes as a file path, as text (an upload or an editor on the dashboard) or
as an :class:`~astra.Book` already built in Python. Names with a price in the
file (``[prices]`` or a CSV ``price`` column) keep it; every other name is marked
at the source's close on the valuation day, or the last close before it, and the
book says which close it used. A period re-marks those names at each business
day's close (:func:`marks_panel`); a built ``Book`` keeps the marks it was given.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from astra.book import Book, data_price_loader, load_book
from astra.data import load_prices
from astra.errors import AstraError, DataUnavailable, InputError
from astra.workflows.common import iso, parse_date

__all__ = ["BookText", "OpenBook", "marks_panel", "open_book", "show_book"]


@dataclass(frozen=True)
class BookText:
    """A book's file contents (``fmt`` ``toml`` or ``csv``), e.g. uploaded or typed on the dashboard."""

    text: str
    fmt: str = "toml"
    name: str = "book"


BookInput = str | os.PathLike | Book | BookText


@dataclass(frozen=True)
class OpenBook:
    """A book marked for one day, and which of its names were marked from data (re-markable)."""

    book: Book
    marked: tuple[str, ...]
    source: str
    offline: bool = False
    marks_date: pd.Timestamp | None = None  # the latest close used for a mark; None when all were given

    @property
    def marks(self) -> str:
        """How the book is marked, in words (``sample close of 2022-12-23``, ``given with the book``)."""
        return self.book.marks if self.marked else "given with the book"


def _read(book: BookInput, *, equity, loader) -> Book:
    if isinstance(book, BookText):
        if not book.text.strip():
            raise InputError("the book is empty: paste a TOML book or upload one")
        fmt = book.fmt.lower().lstrip(".")
        if fmt not in ("toml", "csv"):
            raise InputError(f"book format {book.fmt!r}: use toml or csv")
        with tempfile.TemporaryDirectory(prefix="astra-book-") as tmp:
            shown = f"{Path(book.name).stem or 'book'}.{fmt}"
            path = Path(tmp) / shown
            path.write_text(book.text, encoding="utf-8")
            try:
                return load_book(path, equity=equity, price_loader=loader)
            except AstraError as exc:  # the book is named by its own name, never the scratch copy's path
                raise type(exc)(str(exc).replace(str(path), shown)) from None
    return load_book(book, equity=equity, price_loader=loader)


def open_book(
    book: BookInput, *, source: str = "sample", on=None, equity: float | None = None, offline: bool = False
) -> OpenBook:
    """Load ``book`` and mark its unpriced names at ``source``'s close on ``on`` (the last one on or before it).

    Parameters
    ----------
    book
        A ``.toml``/``.csv`` path, a :class:`BookText`, or a :class:`~astra.Book` (kept as given).
    source
        Prices for the marks: ``sample``, ``yahoo``, ``csv:PATH``, ``parquet:PATH``.
    on
        Valuation day; default the latest close the source has.
    equity
        Account equity, USD (required for a CSV book; overrides a TOML book's).
    """
    if isinstance(book, Book):
        if equity is not None:
            raise InputError("equity: a built Book carries its own equity")
        return OpenBook(book, (), source, offline)
    day = parse_date(on, "date")
    closes: list[tuple[str, pd.Timestamp]] = []  # (ticker, date) of every close the loader used
    loaded = _read(book, equity=equity, loader=data_price_loader(source, iso(day), offline=offline, closes=closes))
    marked = tuple(ticker for ticker, _ in closes)
    return OpenBook(loaded, marked, source, offline, max((d for _, d in closes), default=None))


def marks_panel(opened: OpenBook, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame | None, str]:
    """Closes of the book's data-marked names from the last one on or before ``start`` to ``end``.

    Returns the frame (``None`` when every mark was given) and a sentence saying
    which closes mark the period (and for how many days the last close was held
    where the data stop before ``end``).
    """
    if not opened.marked:
        return None, "marks given with the book, held for the whole period"
    lookback = (start - pd.Timedelta(days=14)).date().isoformat()
    data = load_prices(list(opened.marked), opened.source, lookback, end.date().isoformat(), offline=opened.offline)
    closes = data.prices[list(opened.marked)]
    before = closes.loc[:start].dropna(how="any")
    if before.empty:
        raise DataUnavailable(f"{opened.source} has no close of {', '.join(opened.marked)} on or before {start.date()}")
    last = closes.dropna(how="any").index[-1]
    label = f"{data.meta.source} close of each business day"
    if last < end:
        label += f" (the close of {last.date()} held after it: the data end there)"
    return closes, label


def show_book(book: BookInput, *, source: str = "sample", on=None, equity: float | None = None,
              offline: bool = False) -> Book:  # fmt: skip
    """The book marked on ``on`` (default the latest close): positions, weights, long/short/gross/net, leverage."""
    return open_book(book, source=source, on=on, equity=equity, offline=offline).book
