"""Margin: Reg T initial, FINRA 4210 maintenance and portfolio margin.

* Reg T initial (Regulation T, 12 CFR 220.12): 50 % of long value plus 50 % of
  short value (the 150 % short deposit less the proceeds).
* FINRA Rule 4210 maintenance: 25 % of long value; shorts 30 % of value, but at
  least $5 a share when the price is $5 or more, and the greater of $2.50 a
  share or 100 % of value below $5.
* Portfolio margin (FINRA 4210(g), TIMS-style): the worst loss of each position
  under moves of ±15 %, summed.

Each requirement is linear in the book (every rule is a maximum of terms
proportional to shares), so the largest gross the equity supports under a
regime is ``gross · equity / requirement``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from astra.errors import InputError

__all__ = ["REGIMES", "MarginResult", "margin", "requirements"]

REGIMES = ("reg_t", "finra", "portfolio")
PM_SHOCK = 0.15


def requirements(quantities, prices) -> pd.DataFrame:
    """Per-position requirement under each regime (USD), columns ``reg_t``, ``finra``, ``portfolio``.

    Examples
    --------
    >>> r = requirements([100, -100, -1000], [50.0, 20.0, 3.0])
    >>> r["finra"].tolist()  # 25 % × 5,000; max(30 % × 2,000, $5 × 100); max($2.50 × 1,000, 3,000)
    [1250.0, 600.0, 3000.0]
    """
    q = np.asarray(quantities, dtype=float)
    p = np.asarray(prices, dtype=float)
    value = np.abs(q * p)
    shares = np.abs(q)
    short_rule = np.where(p >= 5.0, np.maximum(0.30 * value, 5.0 * shares), np.maximum(2.50 * shares, value))
    return pd.DataFrame(
        {
            "reg_t": 0.5 * value,
            "finra": np.where(q > 0, 0.25 * value, short_rule),
            "portfolio": PM_SHOCK * value,
        }
    )


@dataclass(frozen=True)
class MarginResult:
    """Requirements, excess and call of a book under its account's regime."""

    regime: str
    equity: float
    gross: float
    reg_t_initial: float
    finra_maintenance: float
    portfolio_margin: float
    positions: pd.DataFrame

    @property
    def requirement(self) -> float:
        return {"reg_t": self.reg_t_initial, "finra": self.finra_maintenance, "portfolio": self.portfolio_margin}[
            self.regime
        ]

    @property
    def excess(self) -> float:
        """Equity above the requirement (negative = deficit)."""
        return self.equity - self.requirement

    @property
    def call(self) -> float:
        """Cash the client must post now (0 when in excess)."""
        return max(0.0, self.requirement - self.equity)

    def max_gross(self, regime: str | None = None) -> float:
        """The largest gross, in the book's proportions, the equity supports under ``regime``."""
        req = {"reg_t": self.reg_t_initial, "finra": self.finra_maintenance, "portfolio": self.portfolio_margin}[
            regime or self.regime
        ]
        return math.inf if req == 0 else self.gross * self.equity / req

    def to_frame(self) -> pd.DataFrame:
        return self.positions.copy()

    def to_dict(self) -> dict[str, Any]:
        regimes = {}
        for name, req in (
            ("reg_t", self.reg_t_initial),
            ("finra", self.finra_maintenance),
            ("portfolio", self.portfolio_margin),
        ):
            regimes[name] = {
                "requirement": req,
                "excess": self.equity - req,
                "call": max(0.0, req - self.equity),
                "max_gross": self.max_gross(name),
            }
        return {
            "regime": self.regime,
            "reg_t_initial": self.reg_t_initial,
            "finra_maintenance": self.finra_maintenance,
            "portfolio_margin": self.portfolio_margin,
            "equity": self.equity,
            "requirement": self.requirement,
            "excess": self.excess,
            "call": self.call,
            "regimes": regimes,
        }


def margin(book, *, regime: str | None = None) -> MarginResult:
    """Margin of ``book`` (an :class:`astra.Book`); ``regime`` overrides the account's.

    Examples
    --------
    >>> from astra import Book
    >>> book = Book.from_positions({"AAPL": 1000, "JPM": -500}, {"AAPL": 200.0, "JPM": 100.0}, equity=100_000)
    >>> m = margin(book)
    >>> m.reg_t_initial, m.call  # 50 % × (200,000 + 50,000) = 125,000 > 100,000 equity
    (125000.0, 25000.0)
    """
    regime = regime or book.margin_regime
    if regime not in REGIMES:
        raise InputError(f"margin regime {regime!r} is not one of {', '.join(REGIMES)}")
    per = requirements(book.quantities, book.prices)
    per.index = pd.Index(book.tickers, name="ticker")
    return MarginResult(
        regime=regime,
        equity=book.equity,
        gross=book.gross,
        reg_t_initial=float(per["reg_t"].sum()),
        finra_maintenance=float(per["finra"].sum()),
        portfolio_margin=float(per["portfolio"].sum()),
        positions=per,
    )
