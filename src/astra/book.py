"""A client's long/short book: positions × marks → exposures.

A book file is TOML (``[account]``, ``[positions]``, optional ``[prices]`` and
``[funding]``) or CSV (``ticker,quantity[,price]``; the account equity is then
given separately). Positions without a mark are marked at the latest close
from the data layer. Everything is validated here, once, vectorised (a CSV book
of millions of rows loads in seconds).

Bounds: a value outside them is a typo or a unit error, never a position, and is
refused with the offending name and value (they also keep every sum, square and
product downstream finite):

- ``|quantity|`` ≤ :data:`MAX_SHARES` (10¹² shares; no company has issued more);
- a mark in [:data:`MIN_PRICE`, :data:`MAX_PRICE`] = [$0.000001, $100,000,000] a share;
- each ``|market value|`` and the gross ≤ :data:`MAX_NOTIONAL` ($10¹⁵, ten times
  the world's listed equity);
- the account equity in [:data:`MIN_EQUITY`, :data:`MAX_EQUITY`] = [$1, $10¹⁵].

Examples
--------
>>> book = Book.from_positions({"AAPL": 1500, "JPM": -1200}, {"AAPL": 276.49, "JPM": 317.27}, equity=1_000_000)
>>> round(book.gross, 2), round(book.net, 2), round(book.leverage, 4)
(795459.0, 34011.0, 0.7955)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra.config import (
    MAX_EQUITY,
    MAX_NOTIONAL,
    MAX_PRICE,
    MAX_SHARES,
    MIN_EQUITY,
    MIN_PRICE,
    Table,
    check_number,
    read_toml,
)
from astra.data.tables import check_ticker, read_csv_table
from astra.errors import InputError, did_you_mean, excerpt, listing
from astra.funding.terms import FundingTerms, terms_from_table

__all__ = [
    "MAX_EQUITY",
    "MAX_NOTIONAL",
    "MAX_PRICE",
    "MAX_SHARES",
    "MIN_EQUITY",
    "MIN_PRICE",
    "Book",
    "load_book",
]

_MARGIN_REGIMES = ("reg_t", "finra", "portfolio")
_ACCOUNT_FIELDS = ("name", "equity", "margin", "group")
_BOOK_TABLES = ("account", "positions", "prices", "funding")

PriceLoader = Callable[[list[str]], tuple[dict[str, float], str]]


def _tickers(raw: Iterable[Any], where: str) -> list[str]:
    """Validated upper-case tickers, each once."""
    tickers = [check_ticker(t, where) for t in raw]
    if len(set(tickers)) != len(tickers):
        seen: set[str] = set()
        repeated = sorted({t for t in tickers if t in seen or seen.add(t)})
        raise InputError(f"{where}: {listing(repeated)} appear(s) twice")
    return tickers


def _numbers(values: list[Any], names: list[str], where: str, **bounds) -> np.ndarray:
    """``values`` (ints or floats, never text or bool) as a float array; errors name ``where.<ticker>``."""
    if not all(type(v) in (int, float) or isinstance(v, np.integer | np.floating) for v in values):
        for v, t in zip(values, names, strict=True):
            check_number(v, f"{where}.{t}")
    try:
        array = np.array(values, dtype=float)
    except OverflowError:  # an integer beyond float range
        array = np.array([float(v) if abs(v) < 1e308 else np.inf for v in values])
    bad = ~np.isfinite(array)
    low = np.zeros(array.shape, dtype=bool)
    if bounds.get("minimum") is not None:
        low = array <= bounds["minimum"] if bounds.get("exclusive_minimum") else array < bounds["minimum"]
    high = np.zeros(array.shape, dtype=bool) if "maximum" not in bounds else array > bounds["maximum"]
    if (bad | low | high).any():
        i = int(np.flatnonzero(bad | low | high)[0])
        check_number(values[i], f"{where}.{names[i]}", **bounds)
    return array


@dataclass(frozen=True, eq=False)
class Book:
    """Positions (signed shares, short < 0) marked at ``prices``, with the account's equity.

    Build with :meth:`from_positions` or :func:`load_book`; the arrays are read-only.
    """

    tickers: tuple[str, ...]
    quantities: np.ndarray
    prices: np.ndarray
    equity: float
    funding: FundingTerms = field(default_factory=FundingTerms)
    margin_regime: str = "reg_t"
    name: str = "book"
    marks: str = "given"
    notes: tuple[str, ...] = ()
    group: str = "default"  # account group, for totals across many books

    def __post_init__(self) -> None:
        for name in ("quantities", "prices"):
            array = np.array(getattr(self, name), dtype=float)
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "tickers", tuple(self.tickers))
        if not (len(self.tickers) == len(self.quantities) == len(self.prices)):
            raise InputError("book: tickers, quantities and prices differ in length")
        check_number(self.equity, f"{self.name}: account.equity", minimum=MIN_EQUITY, maximum=MAX_EQUITY)
        if self.margin_regime not in _MARGIN_REGIMES:
            raise InputError(
                f"{self.name}: account.margin {excerpt(self.margin_regime)} is not one of reg_t, finra, portfolio"
            )
        q, p = self.quantities, self.prices
        with np.errstate(over="ignore", invalid="ignore"):
            bad_q = ~np.isfinite(q) | (np.abs(q) > MAX_SHARES)
            bad_p = ~np.isfinite(p) | (p < MIN_PRICE) | (p > MAX_PRICE)
            values = np.abs(q * p)
        if bad_q.any():
            i = int(np.flatnonzero(bad_q)[0])
            raise InputError(
                f"{self.name}: quantity of {self.tickers[i]} is {q[i]:g} shares; "
                f"a position is a finite number of at most {MAX_SHARES:g} shares"
            )
        if bad_p.any():
            i = int(np.flatnonzero(bad_p)[0])
            raise InputError(
                f"{self.name}: price of {self.tickers[i]} is {p[i]:g}; marks must be positive numbers "
                f"from {MIN_PRICE:g} to {MAX_PRICE:,.0f} USD a share"
            )
        if (values > MAX_NOTIONAL).any():
            i = int(np.argmax(values))
            raise InputError(
                f"{self.name}: market value of {self.tickers[i]} is {values[i]:,.4g} USD; "
                f"at most {MAX_NOTIONAL:g} USD a position"
            )
        if values.sum() > MAX_NOTIONAL:
            raise InputError(f"{self.name}: gross is {values.sum():,.4g} USD; at most {MAX_NOTIONAL:g} USD")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_positions(
        cls,
        positions: Mapping[str, float],
        prices: Mapping[str, float] | None = None,
        *,
        equity: float,
        funding: FundingTerms | None = None,
        margin_regime: str = "reg_t",
        name: str = "book",
        price_loader: PriceLoader | None = None,
        group: str = "default",
    ) -> Book:
        """A book from ``{ticker: shares}`` and ``{ticker: mark}``.

        Zero quantities are dropped (with a note); tickers are upper-cased and
        must be unique. Names without a mark are priced by ``price_loader``
        (``tickers → ({ticker: close}, description)``), else it is an error.
        """
        tickers = _tickers(positions.keys(), f"{name}: positions")
        quantities = _numbers(list(positions.values()), tickers, f"{name}: positions")
        prices = prices or {}
        marked = _tickers(prices.keys(), f"{name}: prices")
        marks = dict(
            zip(
                marked,
                _numbers(list(prices.values()), marked, f"{name}: prices", minimum=0, exclusive_minimum=True).tolist(),
                strict=True,
            )
        )
        held = set(tickers)
        extra = sorted(t for t in marked if t not in held)
        return cls._assemble(
            np.array(tickers, dtype=object),
            quantities,
            np.array([marks.get(t, np.nan) for t in tickers], dtype=float),
            extra,
            equity=equity,
            funding=funding,
            margin_regime=margin_regime,
            name=name,
            price_loader=price_loader,
            group=group,
        )

    @classmethod
    def _assemble(
        cls,
        tickers: np.ndarray,
        quantities: np.ndarray,
        prices: np.ndarray,
        extra_marks: list[str],
        *,
        equity: float,
        funding: FundingTerms | None,
        margin_regime: str,
        name: str,
        price_loader: PriceLoader | None,
        group: str,
    ) -> Book:
        """The book from validated, unique tickers; ``prices`` NaN where a name has no mark."""
        notes: list[str] = []
        zero = quantities == 0
        if zero.any():
            notes.append(f"dropped zero positions: {listing(sorted(tickers[zero]))}")
            tickers, quantities, prices = tickers[~zero], quantities[~zero], prices[~zero]
        if extra_marks:
            notes.append(f"prices given for names not held: {listing(extra_marks)}")
        funding = funding or FundingTerms()
        if funding.borrow_fee_bps:
            held = set(tickers.tolist())
            unheld_fees = sorted(t for t in funding.borrow_fee_bps if t not in held)
            if unheld_fees:
                notes.append(f"borrow fees given for names not held: {listing(unheld_fees)}")
        missing = np.isnan(prices)
        source = "given"
        if missing.any():
            names = tickers[missing].tolist()
            if price_loader is None:
                raise InputError(
                    f"{name}: no price for {listing(names)}; add them under [prices] or mark from a data source"
                )
            loaded, source = price_loader(names)
            prices = prices.copy()
            prices[missing] = [loaded[t] for t in names]
            notes.append(f"marked {listing(names)} at {source}")
        all_loaded = bool(missing.all()) and len(tickers) > 0
        return cls(
            tickers=tuple(tickers.tolist()),
            quantities=quantities,
            prices=prices,
            equity=float(equity),
            funding=funding,
            margin_regime=margin_regime,
            name=name,
            marks=source if all_loaded else ("given" if not missing.any() else "mixed"),
            notes=tuple(notes),
            group=str(group),
        )

    def scaled(self, factor: float) -> Book:
        """The same book with every position and the equity multiplied by ``factor``."""
        return Book(
            self.tickers,
            self.quantities * factor,
            self.prices,
            self.equity * factor,
            self.funding,
            self.margin_regime,
            self.name,
            self.marks,
            self.notes,
            self.group,
        )

    # ------------------------------------------------------------------ exposures
    @property
    def market_values(self) -> np.ndarray:
        """Signed market value of each position, USD."""
        return self.quantities * self.prices

    @property
    def long_market_value(self) -> float:
        return float(np.maximum(self.market_values, 0.0).sum())

    @property
    def short_market_value(self) -> float:
        """Market value of the shorts, as a positive number."""
        return float(np.maximum(-self.market_values, 0.0).sum())

    @property
    def gross(self) -> float:
        return self.long_market_value + self.short_market_value

    @property
    def net(self) -> float:
        return self.long_market_value - self.short_market_value

    @property
    def leverage(self) -> float:
        """Gross over equity."""
        return self.gross / self.equity

    def to_frame(self) -> pd.DataFrame:
        values = self.market_values
        gross = self.gross
        return pd.DataFrame(
            {
                "quantity": self.quantities,
                "price": self.prices,
                "market_value": values,
                "weight": values / gross if gross else np.zeros_like(values),
            },
            index=pd.Index(self.tickers, name="ticker"),
        )

    def to_dict(self) -> dict[str, Any]:
        frame = self.to_frame()
        return {
            "name": self.name,
            "equity": self.equity,
            "positions": frame.reset_index().to_dict("records"),
            "long_market_value": self.long_market_value,
            "short_market_value": self.short_market_value,
            "gross": self.gross,
            "net": self.net,
            "leverage": self.leverage,
            "margin_regime": self.margin_regime,
            "group": self.group,
            "funding": self.funding.to_dict(),
            "marks": self.marks,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------- files
def data_price_loader(
    source: str = "sample", as_of=None, *, offline: bool = False, closes: list | None = None, **kw
) -> PriceLoader:
    """A loader marking names at their latest close (on or before ``as_of``) from the data layer.

    The description says which closes it used (and, when one is not ``as_of``'s own, that it
    is the last on or before it); ``closes``, when given, receives ``(ticker, date)`` of each.
    """
    day = None if as_of is None else pd.Timestamp(as_of).normalize()

    def load(tickers: list[str]) -> tuple[dict[str, float], str]:
        from astra.data import load_prices

        data = load_prices(tickers, source, None, as_of, offline=offline, **kw)
        marks, used = {}, []
        for ticker in tickers:
            column = data.prices[ticker].dropna()
            if column.empty:
                from astra.errors import DataUnavailable

                raise DataUnavailable(f"no close of {ticker} in {source} up to {as_of or 'today'}")
            marks[ticker] = float(column.iloc[-1])
            used.append((ticker, column.index[-1]))
        if closes is not None:
            closes.extend(used)
        dates = ", ".join(sorted({d.date().isoformat() for _, d in used}))
        stale = f" (last on or before {day.date()})" if day is not None and any(d != day for _, d in used) else ""
        return marks, f"{data.meta.source} close of {dates}{stale}"

    return load


def _toml_book(path: Path, equity: float | None, price_loader: PriceLoader | None) -> Book:
    root = Table(read_toml(path), "")
    for key in root:
        if key not in _BOOK_TABLES:
            raise InputError(
                f"{path}: unknown table [{excerpt(key, quote=False)}]{did_you_mean(key, _BOOK_TABLES)} "
                f"(a book has {', '.join(_BOOK_TABLES)})"
            )
    account = root.table("account", required=True)
    account.check_fields(_ACCOUNT_FIELDS)
    positions = root.table("positions", required=True)
    prices = root.table("prices")
    if equity is None:
        equity = account.number("equity", minimum=MIN_EQUITY, maximum=MAX_EQUITY)
    name = account.string("name", path.stem)
    if not name.strip() or len(name) > 100 or not name.isprintable():
        raise InputError(f"{path}: account.name {excerpt(name)} must be 1 to 100 printable characters")
    return Book.from_positions(
        {key: positions.raw(key) for key in positions},
        {key: prices.raw(key) for key in prices},
        equity=equity,
        funding=terms_from_table(root.table("funding")),
        margin_regime=account.string("margin", "reg_t", choices=_MARGIN_REGIMES),
        name=name,
        price_loader=price_loader,
        group=account.string("group", "default"),
    )


def _csv_book(path: Path, equity: float | None, price_loader: PriceLoader | None) -> Book:
    if equity is None:
        raise InputError(f"{path}: a CSV book carries no account equity; give it (--equity 1000000)")
    table = read_csv_table(path, ["ticker", "quantity"], ["price"], what=str(path))
    tickers = table.tickers()
    quantities = table.numbers("quantity", minimum=-MAX_SHARES, maximum=MAX_SHARES)
    if "price" in table.columns:
        prices = table.numbers("price", minimum=MIN_PRICE, maximum=MAX_PRICE, blank=np.nan)
    else:
        prices = np.full(len(table), np.nan)
    del table
    return Book._assemble(
        tickers,
        quantities,
        prices,
        [],
        equity=equity,
        funding=None,
        margin_regime="reg_t",
        name=path.stem,
        price_loader=price_loader,
        group="default",
    )


def load_book(
    path: str | os.PathLike[str],
    *,
    equity: float | None = None,
    source: str = "sample",
    as_of=None,
    offline: bool = False,
    price_loader: PriceLoader | None = None,
) -> Book:
    """Load a TOML or CSV book; unmarked names get the latest close from ``source``.

    Parameters
    ----------
    path
        ``.toml`` or ``.csv`` file.
    equity
        Account equity in USD; required for CSV, overrides ``[account] equity`` for TOML.
    source, as_of, offline
        Where unmarked names are priced: the latest close on or before ``as_of``.
    price_loader
        Replace the data-layer loader (tests, the dashboard).
    """
    path = Path(path)
    if equity is not None:
        check_number(equity, "equity", minimum=MIN_EQUITY, maximum=MAX_EQUITY)
    loader = price_loader or data_price_loader(source, as_of, offline=offline)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _toml_book(path, equity, loader)
    if suffix == ".csv":
        return _csv_book(path, equity, loader)
    raise InputError(f"{path}: a book is a .toml or .csv file")
