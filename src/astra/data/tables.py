"""Small ticker tables from CSV files: groups, locates, alphas, ADV, universes, borrow fees.

Every table a user hands ASTRA beside a book is a CSV with a header naming its
columns (``ticker,alpha``; ``ticker,group``; ``ticker``…). This module reads them
once, vectorised (millions of rows in seconds, memory a small multiple of the
file), and turns every defect into one :class:`~astra.errors.InputError` that
names the file, the line and the column:

- text must be UTF-8 (a byte-order mark is accepted); anything else is refused
  with the byte offset of the first undecodable byte;
- the header must name the expected columns, no column twice, no unknown one;
- tickers must look like tickers and appear once; numbers must be finite and
  within the caller's bounds;
- a message quotes at most a short, sanitised excerpt of a cell and names at
  most a few tickers ("A, B, C and 3,299,990 more").

:func:`read_csv_table` is the shared reader (books use it too); the others are the
shapes the commands need.

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "alphas.csv"
>>> _ = path.write_text("ticker,alpha\\naapl,0.05\\nMSFT,-0.01\\n")
>>> read_ticker_table(path, "alpha")
{'AAPL': 0.05, 'MSFT': -0.01}
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra._io import read_text
from astra.errors import InputError, excerpt, listing

__all__ = [
    "TICKER_PATTERN",
    "CsvTable",
    "check_ticker",
    "read_csv_table",
    "read_ticker_list",
    "read_ticker_table",
]

TICKER_PATTERN = r"[A-Z0-9][A-Z0-9.\-=^]{0,19}"
"""A ticker: a letter or digit, then up to 19 letters, digits, ``.``, ``-``, ``=`` or ``^`` (upper case)."""

_TICKER = re.compile(f"^{TICKER_PATTERN}$")
_PARSER_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def check_ticker(raw: Any, where: str) -> str:
    """``raw`` upper-cased and stripped if it is a ticker, else an ``InputError`` naming ``where``.

    Examples
    --------
    >>> check_ticker(" brk.b ", "positions")
    'BRK.B'
    """
    text = str(raw).strip().upper()
    if not _TICKER.match(text):
        raise InputError(
            f"{where}: {excerpt(raw)} is not a ticker (letters, digits, '.', '-', '^', '=', up to 20 characters)"
        )
    return text


@dataclass(frozen=True)
class CsvTable:
    """A parsed CSV: one stripped text column per header name, and the file line of each row.

    ``columns[name]`` is a ``pandas.Series`` of ``str`` (an absent optional column
    is not in the mapping; a short row's missing cells are ``""``); ``lines`` holds
    the 1-based line number of each row (blank lines are dropped).
    """

    where: str
    columns: dict[str, pd.Series]
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.lines)

    def tickers(self, column: str = "ticker", *, unique: bool = True) -> np.ndarray:
        """The column as upper-case tickers (an object array); bad or repeated ones are an ``InputError``."""
        cells = self.columns[column].str.upper()
        bad = ~cells.str.fullmatch(TICKER_PATTERN).to_numpy(dtype=bool, na_value=False)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            check_ticker(cells.iloc[i], f"{self.where}, line {self.lines[i]}, column {column}")
        values = cells.to_numpy(dtype=object)
        if unique:
            repeated = pd.Index(values).duplicated()
            if repeated.any():
                names = pd.unique(values[repeated])
                first = self.lines[int(np.flatnonzero(repeated)[0])]
                raise InputError(
                    f"{self.where}: {len(names):,} ticker(s) appear more than once ({listing(names)}; "
                    f"first repeat on line {first}); give each name one row"
                )
        return values

    def numbers(
        self,
        column: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
        blank: float | None = None,
    ) -> np.ndarray:
        """The column as finite floats (``1_000`` allowed) within bounds; ``blank`` fills empty cells if given.

        The first offending cell is reported with its line and a short excerpt;
        an empty cell is an error unless ``blank`` is given (``nan`` for "absent").
        """
        cells = self.columns[column]
        empty = (cells == "").to_numpy(dtype=bool)
        values = pd.to_numeric(cells.str.replace("_", "", regex=False), errors="coerce")
        values = values.to_numpy(dtype=float, na_value=np.nan)
        if blank is not None:
            values[empty] = blank
        elif empty.any():
            line = self.lines[int(np.flatnonzero(empty)[0])]
            raise InputError(f"{self.where}, line {line}, column {column}: empty cell; give a number")
        bad = ~np.isfinite(values) & ~empty
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            text = cells.iloc[i]
            kind = "is not finite" if _is_nonfinite_number(text) else "is not a number"
            raise InputError(f"{self.where}, line {self.lines[i]}, column {column}: {excerpt(text)} {kind}")
        checked = values[~empty] if blank is not None else values
        low = np.zeros(checked.shape, dtype=bool)
        if minimum is not None:
            low = checked <= minimum if exclusive_minimum else checked < minimum
        high = checked > maximum if maximum is not None else np.zeros(checked.shape, dtype=bool)
        if low.any() or high.any():
            i = int(np.flatnonzero(low | high)[0])
            line = (self.lines[~empty] if blank is not None else self.lines)[i]
            bound = (f"> {minimum:g}" if exclusive_minimum else f">= {minimum:g}") if low[i] else f"<= {maximum:g}"
            raise InputError(f"{self.where}, line {line}, column {column}: {checked[i]:g} must be {bound}")
        return values


def _is_nonfinite_number(text: str) -> bool:
    try:
        return not math.isfinite(float(text.replace("_", "")))
    except ValueError:
        return False


def read_csv_table(
    path: str | os.PathLike[str],
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    what: str | None = None,
    extra: str = "refuse",
) -> CsvTable:
    """Read a CSV whose header names ``required`` columns (any order) and maybe ``optional`` ones.

    Parameters
    ----------
    path
        The CSV file (UTF-8, with or without a byte-order mark).
    required, optional
        Column names, lower case; the header is matched case-insensitively.
    what
        How messages name the file (default: its path).
    extra
        ``"refuse"`` (default): an unknown column is an error; ``"ignore"``: dropped.

    Returns
    -------
    CsvTable
        Stripped text cells by column and the line number of each non-blank row.
    """
    path = Path(path)
    where = what or str(path)
    text = read_text(path, what=what or "file")
    expected = [*required, *optional]
    try:
        frame = pd.read_csv(
            io.StringIO(text), header=None, dtype=str, na_filter=False, skip_blank_lines=False, engine="c"
        )
    except pd.errors.EmptyDataError:
        raise InputError(f"{where}: empty file; the header must be {','.join(expected)}") from None
    except pd.errors.ParserError as exc:
        match = _PARSER_FIELDS.search(str(exc))
        if match is None:
            raise InputError(f"{where}: not a readable CSV file ({excerpt(exc, 80)})") from None
        fields, line, saw = match.groups()
        raise InputError(f"{where}, line {line}: {saw} fields, but the first line has {fields}") from None
    del text
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    blank = (frame == "").all(axis=1).to_numpy()
    lines = np.flatnonzero(~blank) + 1
    frame = frame.loc[~blank]
    if frame.empty:
        raise InputError(f"{where}: empty file; the header must be {','.join(expected)}")
    header = [str(c).lower() for c in frame.iloc[0]]
    repeated = sorted({c for c in header if header.count(c) > 1})
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in expected]
    usage = f"the header must be {','.join(required)}" + "".join(f"[,{c}]" for c in optional)
    if repeated:
        raise InputError(f"{where}: column {excerpt(repeated[0])} appears twice in the header; {usage}")
    if missing:
        raise InputError(f"{where}: no {listing(missing)} column in the header {_header_text(header)}; {usage}")
    if unknown and extra == "refuse":
        raise InputError(f"{where}: unknown column(s) {listing(map(repr, unknown))}; {usage}")
    columns = {name: frame.iloc[1:, header.index(name)].reset_index(drop=True) for name in expected if name in header}
    return CsvTable(where, columns, lines[1:])


def _header_text(header: list[str]) -> str:
    return excerpt(",".join(header), 60)


def read_ticker_table(
    path: str | os.PathLike[str],
    value: str,
    *,
    numeric: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    what: str | None = None,
) -> dict[str, Any]:
    """``{ticker: value}`` from a CSV with the header ``ticker,<value>``.

    Parameters
    ----------
    path
        The CSV file (UTF-8, with or without a byte-order mark).
    value
        The second column's name, e.g. ``alpha``, ``group``, ``shares``, ``adv_usd``, ``fee_bps``.
    numeric
        Values are finite numbers (float) within ``minimum``/``maximum``; else non-empty text.
    what
        How messages name the file (e.g. ``"alphas file 'a.csv'"``; default the path).

    Returns
    -------
    dict
        Upper-case ticker → float (or str), in file order; every ticker once.

    Raises
    ------
    InputError
        Not UTF-8 (with the byte offset), wrong header, a short/long row, a bad
        or repeated ticker, a non-numeric, non-finite or out-of-bounds value.
    """
    table = read_csv_table(path, ["ticker", value], what=what)
    tickers = table.tickers()
    if numeric:
        values = table.numbers(value, minimum=minimum, maximum=maximum, exclusive_minimum=exclusive_minimum)
        return dict(zip(tickers.tolist(), values.tolist(), strict=True))
    cells = table.columns[value]
    empty = (cells == "").to_numpy(dtype=bool)
    if empty.any():
        line = table.lines[int(np.flatnonzero(empty)[0])]
        raise InputError(f"{table.where}, line {line}, column {value}: empty cell")
    return dict(zip(tickers.tolist(), cells.tolist(), strict=True))


def read_ticker_list(path: str | os.PathLike[str], *, what: str | None = None) -> list[str]:
    """The tickers of a universe file: a CSV with a ``ticker`` column (other columns are ignored).

    Each ticker must appear once; order is kept.
    """
    table = read_csv_table(path, ["ticker"], what=what, extra="ignore")
    return table.tickers().tolist()
