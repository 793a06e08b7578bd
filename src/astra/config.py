"""Configuration: frozen dataclasses loaded from TOML and validated once.

The pattern every loader follows (book and desk files alike):

1. :func:`read_toml` reads the file and turns a syntax error into an
   :class:`~astra.errors.InputError` naming the file and line;
2. a :class:`Table` wraps each TOML table and hands out typed, range-checked
   fields (``table.number("equity", minimum=0)``), every error naming the
   dotted field path and the offending value;
3. the loader builds a frozen dataclass; nothing downstream re-validates.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astra._io import decode_text
from astra.errors import InputError, did_you_mean, excerpt

__all__ = [
    "MAX_EQUITY",
    "MAX_NOTIONAL",
    "MAX_PRICE",
    "MAX_SHARES",
    "MIN_EQUITY",
    "MIN_PRICE",
    "SourceSpec",
    "Table",
    "parse_source",
    "read_toml",
]

_MISSING = object()

# Sanity bounds on a book (documented in :mod:`astra.book`): outside them a value is a typo
# or a unit error, never a position; inside them every sum, square and product stays finite.
MAX_SHARES = 1e12
"""Largest ``|quantity|`` of one position, shares (no company has issued more)."""
MIN_PRICE = 1e-6
"""Smallest mark, USD a share."""
MAX_PRICE = 1e8
"""Largest mark, USD a share."""
MAX_NOTIONAL = 1e15
"""Largest ``|market value|`` of one position, gross of a book, or balance of a tier, USD."""
MIN_EQUITY = 1.0
"""Smallest account equity, USD."""
MAX_EQUITY = 1e15
"""Largest account equity, USD."""


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a TOML file; a missing file, text that is not UTF-8 (a byte-order mark is
    accepted) or bad syntax is an ``InputError``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"file not found: {str(path)!r}") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        return tomllib.loads(decode_text(data, str(path)))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc


class Table:
    """Typed, validated access to one TOML table; errors name ``where.key``."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a table, got {type(data).__name__} {excerpt(repr(data), quote=False)}")
        self._data = data
        self.where = where

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def __iter__(self):
        return iter(list(self._data))

    def keys(self) -> list[str]:
        return list(self._data)

    def path(self, key: str) -> str:
        key = excerpt(key, 40, quote=False)
        return f"{self.where}.{key}" if self.where else key

    def check_fields(self, known: Iterable[str]) -> None:
        """``InputError`` on the first key not in ``known``, with the closest known name suggested."""
        known = tuple(known)
        for key in self._data:
            if key not in known:
                raise InputError(
                    f"{self.path(key)}: unknown field{did_you_mean(key, known)} (known: {', '.join(sorted(known))})"
                )

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            raise InputError(f"{self.path(key)}: required field is missing")
        return default

    def table(self, key: str, *, required: bool = False) -> Table:
        if key not in self._data:
            if required:
                raise InputError(f"{self.path(key)}: required table is missing")
            return Table({}, self.path(key))
        return Table(self._data[key], self.path(key))

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> float:
        value = self.raw(key, default)
        return check_number(
            value, self.path(key), minimum=minimum, maximum=maximum, exclusive_minimum=exclusive_minimum
        )

    def string(self, key: str, default: Any = _MISSING, *, choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise InputError(f"{self.path(key)}: expected text, got {excerpt(repr(value), quote=False)}")
        if choices is not None and value not in choices:
            raise InputError(
                f"{self.path(key)}: {excerpt(value)} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
            )
        return value

    def tables(self, key: str) -> list[Table]:
        value = self.raw(key, [])
        if not isinstance(value, list):
            raise InputError(f"{self.path(key)}: expected an array of tables ([[{self.path(key)}]])")
        return [Table(item, f"{self.path(key)}[{i}]") for i, item in enumerate(value)]


def check_number(
    value: Any,
    where: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """``value`` as a finite float within bounds, else ``InputError`` naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number, got {excerpt(repr(value), quote=False)}")
    shown = excerpt(repr(value), quote=False)
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        raise InputError(f"{where}: {shown} is too large") from None
    if not math.isfinite(number):
        raise InputError(f"{where}: {shown} is not a finite number")
    if minimum is not None:
        too_low = number <= minimum if exclusive_minimum else number < minimum
        if too_low:
            bound = f"> {minimum:g}" if exclusive_minimum else f">= {minimum:g}"
            raise InputError(f"{where}: {shown} must be {bound}")
    if maximum is not None and number > maximum:
        raise InputError(f"{where}: {shown} must be <= {maximum:g}")
    return number


# ---------------------------------------------------------------- data sources

SOURCE_KINDS = ("sample", "yahoo", "synthetic", "csv", "parquet")


@dataclass(frozen=True)
class SourceSpec:
    """A parsed ``--source`` value: ``sample``, ``yahoo``, ``synthetic``, ``csv:PATH``, ``parquet:PATH``."""

    kind: str
    path: Path | None = None

    def __str__(self) -> str:
        return self.kind if self.path is None else f"{self.kind}:{self.path}"


def parse_source(text: str) -> SourceSpec:
    """Parse a ``--source`` string."""
    kind, _, rest = str(text).partition(":")
    kind = kind.strip().lower()
    shown = excerpt(text, 80)
    if kind not in SOURCE_KINDS:
        hint = did_you_mean(kind, SOURCE_KINDS)
        raise InputError(f"--source {shown}: use one of sample, yahoo, synthetic, csv:PATH, parquet:PATH{hint}")
    if kind in ("csv", "parquet"):
        if not rest:
            raise InputError(f"--source {shown}: give the file, e.g. {kind}:prices.{kind}")
        return SourceSpec(kind, Path(rest).expanduser())
    if rest:
        raise InputError(f"--source {shown}: {kind} takes no path")
    return SourceSpec(kind)
