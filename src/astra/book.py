"""A client's long/short book: positions × marks → exposures.

A book file is TOML (``[account]``, ``[positions]``, optional ``[prices]`` and
``[funding]``) or CSV (``ticker,quantity[,price]``; the account equity is then
given separately). Positions without a mark are marked at the latest close
from the data layer. Everything is validated here, once.

Examples
--------
>>> book = Book.from_positions({"AAPL": 1500, "JPM": -1200}, {"AAPL": 276.49, "JPM": 317.27}, equity=1_000_000)
>>> round(book.gross, 2), round(book.net, 2), round(book.leverage, 4)
(795459.0, 34011.0, 0.7955)
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra.config import Table, check_number, read_toml
from astra.errors import InputError
from astra.funding.terms import FundingTerms, terms_from_table

__all__ = ["Book", "load_book"]

_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-=^]{0,19}$")
_MARGIN_REGIMES = ("reg_t", "finra", "portfolio")

PriceLoader = Callable[[list[str]], tuple[dict[str, float], str]]


def _ticker(raw: Any, where: str) -> str:
    text = str(raw).strip().upper()
    if not _TICKER.match(text):
        raise InputError(f"{where}: {raw!r} is not a ticker (letters, digits, '.', '-', '^', '=', up to 20)")
    return text


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
        if not (len(self.tickers) == len(self.quantities) == len(self.prices)):
            raise InputError("book: tickers, quantities and prices differ in length")
        check_number(self.equity, f"{self.name}: account.equity", minimum=0, exclusive_minimum=True)
        if self.margin_regime not in _MARGIN_REGIMES:
            raise InputError(
                f"{self.name}: account.margin {self.margin_regime!r} is not one of reg_t, finra, portfolio"
            )
        for ticker, price in zip(self.tickers, self.prices, strict=True):
            if not math.isfinite(price) or price <= 0:
                raise InputError(f"{self.name}: price of {ticker} is {price!r}; marks must be positive numbers")

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
        notes: list[str] = []
        quantities: dict[str, float] = {}
        for raw, qty in positions.items():
            ticker = _ticker(raw, f"{name}: positions")
            if ticker in quantities:
                raise InputError(f"{name}: {ticker} appears twice in the positions")
            quantities[ticker] = check_number(qty, f"{name}: positions.{ticker}")
        dropped = sorted(t for t, q in quantities.items() if q == 0)
        if dropped:
            notes.append(f"dropped zero positions: {', '.join(dropped)}")
        quantities = {t: q for t, q in quantities.items() if q != 0}
        marks: dict[str, float] = {}
        for raw, price in (prices or {}).items():
            ticker = _ticker(raw, f"{name}: prices")
            if ticker in marks:
                raise InputError(f"{name}: {ticker} has two prices")
            marks[ticker] = check_number(price, f"{name}: prices.{ticker}", minimum=0, exclusive_minimum=True)
        extra = sorted(set(marks) - set(quantities) - set(dropped))
        if extra:
            notes.append(f"prices given for names not held: {', '.join(extra)}")
        missing = [t for t in quantities if t not in marks]
        source = "given"
        if missing:
            if price_loader is None:
                raise InputError(
                    f"{name}: no price for {', '.join(missing)}; add them under [prices] or mark from a data source"
                )
            loaded, source = price_loader(missing)
            marks.update({t: loaded[t] for t in missing})
            notes.append(f"marked {', '.join(missing)} at {source}")
        tickers = tuple(quantities)
        return cls(
            tickers=tickers,
            quantities=np.array([quantities[t] for t in tickers]),
            prices=np.array([marks[t] for t in tickers]),
            equity=float(equity),
            funding=funding or FundingTerms(),
            margin_regime=margin_regime,
            name=name,
            marks=source if len(missing) == len(tickers) and tickers else ("given" if not missing else "mixed"),
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
            "positions": [{"ticker": t, **{k: float(v) for k, v in row.items()}} for t, row in frame.iterrows()],
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
def data_price_loader(source: str = "sample", as_of=None, *, offline: bool = False, **kw) -> PriceLoader:
    """A loader marking names at their latest close (on or before ``as_of``) from the data layer."""

    def load(tickers: list[str]) -> tuple[dict[str, float], str]:
        from astra.data import load_prices

        data = load_prices(tickers, source, None, as_of, offline=offline, **kw)
        marks, days = {}, set()
        for ticker in tickers:
            column = data.prices[ticker].dropna()
            if column.empty:
                from astra.errors import DataUnavailable

                raise DataUnavailable(f"no close for {ticker} in {source} up to {as_of or 'today'}")
            marks[ticker] = float(column.iloc[-1])
            days.add(column.index[-1].date().isoformat())
        return marks, f"{data.meta.source} close of {', '.join(sorted(days))}"

    return load


def _toml_book(path: Path, equity: float | None, price_loader: PriceLoader | None) -> Book:
    root = Table(read_toml(path), "")
    unknown = sorted(set(root.keys()) - {"account", "positions", "prices", "funding"})
    if unknown:
        raise InputError(f"{path}: unknown table [{unknown[0]}] (a book has account, positions, prices, funding)")
    account = root.table("account", required=True)
    positions = root.table("positions", required=True)
    prices = root.table("prices")
    if equity is None:
        equity = account.number("equity", minimum=0, exclusive_minimum=True)
    return Book.from_positions(
        {key: positions.raw(key) for key in positions},
        {key: prices.raw(key) for key in prices},
        equity=equity,
        funding=terms_from_table(root.table("funding")),
        margin_regime=account.string("margin", "reg_t", choices=_MARGIN_REGIMES),
        name=str(account.raw("name", path.stem)),
        price_loader=price_loader,
        group=account.string("group", "default"),
    )


def _csv_book(path: Path, equity: float | None, price_loader: PriceLoader | None) -> Book:
    if equity is None:
        raise InputError(f"{path}: a CSV book carries no account equity; give it (--equity 1000000)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    rows = list(csv.reader(io.StringIO(text)))
    rows = [(i + 1, r) for i, r in enumerate(rows) if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{path}: empty book file")
    header = [c.strip().lower() for c in rows[0][1]]
    if header[:2] != ["ticker", "quantity"] or len(header) > 3 or (len(header) == 3 and header[2] != "price"):
        raise InputError(f"{path}: header must be ticker,quantity[,price], got {','.join(header)}")
    positions: dict[str, float] = {}
    prices: dict[str, float] = {}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise InputError(f"{path}, line {line}: expected {len(header)} fields, got {len(row)}")
        ticker = _ticker(row[0], f"{path}, line {line}")
        if ticker in positions:
            raise InputError(f"{path}, line {line}: {ticker} appears twice")
        for column, target in zip(header[1:], (positions, prices), strict=False):
            cell = row[header.index(column)].strip().replace("_", "")
            if column == "price" and cell == "":
                continue
            try:
                target[ticker] = float(cell)
            except ValueError:
                raise InputError(f"{path}, line {line}, column {column}: {cell!r} is not a number") from None
    return Book.from_positions(positions, prices, equity=equity, name=path.stem, price_loader=price_loader)


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
        check_number(equity, "--equity", minimum=0, exclusive_minimum=True)
    loader = price_loader or data_price_loader(source, as_of, offline=offline)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _toml_book(path, equity, loader)
    if suffix == ".csv":
        return _csv_book(path, equity, loader)
    raise InputError(f"{path}: a book is a .toml or .csv file")
