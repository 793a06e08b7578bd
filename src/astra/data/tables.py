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

import csv
import io
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from astra._io import decode_text, read_bytes
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
_BOM = b"\xef\xbb\xbf"


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


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A parsed CSV: one stripped text column per header name.

    ``columns[name]`` is a ``pyarrow.ChunkedArray`` of strings (an absent optional
    column is not in the mapping). Rows whose cells are all blank are dropped.
    :meth:`line` gives the file line of a row (computed only when a message needs it).
    """

    where: str
    columns: dict[str, pa.ChunkedArray]
    _body: bytes
    _body_line: int  # file line number of the body's first line, minus one

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def line(self, row: int) -> int | str:
        """The 1-based file line where data row ``row`` starts (``"?"`` if the CSV dialects disagree)."""
        for index, start, _cells in _rows(self._body):
            if index == row:
                return self._body_line + start
        return "?"

    def text(self, column: str) -> list[str]:
        """The column's cells as Python strings."""
        return self.columns[column].to_pylist()

    def tickers(self, column: str = "ticker", *, unique: bool = True) -> np.ndarray:
        """The column as upper-case tickers (an object array); bad or repeated ones are an ``InputError``."""
        cells = pc.utf8_upper(self.columns[column])
        good = pc.match_substring_regex(cells, f"^{TICKER_PATTERN}$")
        if not pc.all(good).as_py() and len(cells):
            i = int(pc.index(good, False).as_py())
            check_ticker(cells[i].as_py(), f"{self.where}, line {self.line(i)}, column {column}")
        values = np.asarray(cells.to_numpy(zero_copy_only=False), dtype=object)
        if unique and len(set(values.tolist())) != len(values):
            counts = pc.value_counts(cells)
            repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
            first = int(pc.index(pc.is_in(cells, value_set=repeated), True).as_py())
            first_repeat = int(pc.index(pc.equal(cells, cells[first]), True, start=first + 1).as_py())
            raise InputError(
                f"{self.where}: {len(repeated):,} ticker(s) appear more than once "
                f"({listing(repeated.to_pylist())}; first repeat on line {self.line(first_repeat)}); "
                "give each name one row"
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
        cleaned = pc.replace_substring(cells, "_", "")
        numeric = pc.match_substring_regex(cleaned, _NUMBER)
        values = pc.cast(pc.if_else(numeric, cleaned, pa.scalar(None, pa.string())), pa.float64())
        values = np.array(values.to_numpy(zero_copy_only=False), dtype=float)  # nulls become NaN
        empty = np.asarray(pc.binary_length(cells).to_numpy(zero_copy_only=False)) == 0
        if blank is None and empty.any():
            line = self.line(int(np.flatnonzero(empty)[0]))
            raise InputError(f"{self.where}, line {line}, column {column}: empty cell; give a number")
        bad = ~np.isfinite(values) & ~empty
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            text = cells[i].as_py()
            kind = "is not finite" if _is_nonfinite_number(text) else "is not a number"
            raise InputError(f"{self.where}, line {self.line(i)}, column {column}: {excerpt(text)} {kind}")
        with np.errstate(invalid="ignore"):
            low = np.zeros(values.shape, dtype=bool)
            if minimum is not None:
                low = values <= minimum if exclusive_minimum else values < minimum
            high = values > maximum if maximum is not None else np.zeros(values.shape, dtype=bool)
        if low.any() or high.any():
            i = int(np.flatnonzero(low | high)[0])
            bound = (f"> {minimum:g}" if exclusive_minimum else f">= {minimum:g}") if low[i] else f"<= {maximum:g}"
            raise InputError(f"{self.where}, line {self.line(i)}, column {column}: {values[i]:g} must be {bound}")
        if blank is not None:
            values[empty] = blank
        return values


_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _is_nonfinite_number(text: str) -> bool:
    try:
        return not math.isfinite(float(text.replace("_", "")))
    except ValueError:
        return False


def _rows(body: bytes) -> Iterator[tuple[int, int, list[str]]]:
    """``(data row index, 1-based line within body, cells)`` of each row with a non-blank cell (slow path)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8")))
    index, previous = -1, 0
    for cells in reader:
        start, previous = previous + 1, reader.line_num
        if any(c.strip() for c in cells):
            index += 1
            yield index, start, cells


def _header(text: str) -> tuple[list[str], int, int]:
    """The first non-blank line's cells, its 1-based line number and the character offset after it."""
    position, line = 0, 0
    while position <= len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        line += 1
        content = text[position:end]
        if content.strip():
            cells = next(csv.reader([content.rstrip("\r")]), [])
            return [c.strip().lower() for c in cells], line, end + 1
        position = end + 1
    return [], line, len(text)


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
        What the file is, for messages (``"alphas file"``; they read ``alphas file 'a.csv': …``).
    extra
        ``"refuse"`` (default): an unknown column is an error; ``"ignore"``: dropped.

    Returns
    -------
    CsvTable
        Stripped text cells by column (rows with only blank cells dropped).
    """
    path = Path(path)
    where = f"{what or 'file'} {str(path)!r}"
    data = read_bytes(path, what=what or "file")
    skip = len(_BOM) if data.startswith(_BOM) else 0
    text = decode_text(data, where)
    expected = [*required, *optional]
    usage = f"the header must be {','.join(required)}" + "".join(f"[,{c}]" for c in optional)
    header, header_line, header_end = _header(text)
    if not header:
        raise InputError(f"{where}: empty file; {usage}")
    body = data[skip + len(text[:header_end].encode("utf-8")) :]
    del text
    repeated = sorted({c for c in header if header.count(c) > 1})
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in expected]
    if repeated:
        raise InputError(f"{where}: column {excerpt(repeated[0])} appears twice in the header; {usage}")
    if missing:
        shown = excerpt(",".join(header), 60)
        raise InputError(f"{where}: no {listing(missing)} column in the header {shown}; {usage}")
    if unknown and extra == "refuse":
        raise InputError(f"{where}: unknown column(s) {listing(map(repr, unknown))}; {usage}")
    names = [f"c{i}" for i in range(len(header))]
    bad_rows: list[int] = []

    def on_invalid(row) -> str:
        if not row.text.strip():
            return "skip"  # a line of spaces
        bad_rows.append(row.actual_columns)
        return "error"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        for _index, start, cells in _rows(body):
            if len(cells) != len(header):
                raise InputError(
                    f"{where}, line {header_line + start}: {len(cells)} fields, but the header has {len(header)}"
                ) from None
        raise InputError(
            f"{where}: not a readable CSV file (unbalanced quotes, or rows of different lengths)"
        ) from None
    trimmed = {name: pc.utf8_trim_whitespace(table.column(name)) for name in names}
    if trimmed:
        blank = None
        for column in trimmed.values():
            empty = pc.equal(pc.binary_length(column), 0)
            blank = empty if blank is None else pc.and_(blank, empty)
        if pc.any(blank).as_py():
            keep = pc.invert(blank)
            trimmed = {name: column.filter(keep) for name, column in trimmed.items()}
    columns = {name: trimmed[names[header.index(name)]] for name in expected if name in header}
    return CsvTable(where, columns, body, header_line)


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
    cells = table.text(value)
    if "" in cells:
        raise InputError(f"{table.where}, line {table.line(cells.index(''))}, column {value}: empty cell")
    return dict(zip(tickers.tolist(), cells, strict=True))


def read_ticker_list(path: str | os.PathLike[str], *, what: str | None = None) -> list[str]:
    """The tickers of a universe file: a CSV with a ``ticker`` column (other columns are ignored).

    Each ticker must appear once; order is kept.
    """
    table = read_csv_table(path, ["ticker"], what=what, extra="ignore")
    return table.tickers().tolist()
