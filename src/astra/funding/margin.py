"""Margin: Reg T initial, FINRA 4210 maintenance and portfolio margin.

* Reg T initial (Regulation T, 12 CFR 220.12): 50 % of long value plus 50 % of
  short value (the 150 % short deposit less the proceeds).
* FINRA Rule 4210 maintenance: 25 % of long value; shorts 30 % of value, but at
  least $5 a share when the price is $5 or more, and the greater of $2.50 a
  share or 100 % of value below $5.
* Portfolio margin (FINRA 4210(g), TIMS-style): the worst loss of each position
  under moves of ±15 %, summed.

Which requirement a call is measured against: on positions already held, calls
come from the maintenance requirement — FINRA 4210 for a Reg T (strategy-based)
account, the portfolio-margin requirement for a portfolio-margin account. Reg T
initial margin governs new purchases: it is reported as the initial requirement
with the buying power it leaves (``excess over initial / 50 %``). An explicit
``regime`` measures the call against that requirement instead.

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

__all__ = ["REGIMES", "MarginResult", "call_measure", "margin", "requirements"]

REGIMES = ("reg_t", "finra", "portfolio")
PM_SHOCK = 0.15
REG_T_INITIAL = 0.50
# The maintenance requirement that calls on held positions are measured against, by account type.
_MAINTENANCE = {"reg_t": "finra", "finra": "finra", "portfolio": "portfolio"}


def call_measure(account: str, regime: str | None = None) -> str:
    """The requirement a call is measured against: ``regime`` if given, else the account's maintenance.

    Examples
    --------
    >>> call_measure("reg_t"), call_measure("portfolio"), call_measure("reg_t", "reg_t")
    ('finra', 'portfolio', 'reg_t')
    """
    for name, value in (("account margin", account), ("margin regime", regime)):
        if value is not None and value not in REGIMES:
            raise InputError(f"{name} {value!r} is not one of {', '.join(REGIMES)}")
    return regime or _MAINTENANCE[account]


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
    """Requirements, excess and call of a book.

    ``regime`` is the requirement the call is measured against (by default the
    account's maintenance requirement); ``account`` is the account type from the
    book (``reg_t`` strategy-based, or ``portfolio``).
    """

    regime: str
    equity: float
    gross: float
    reg_t_initial: float
    finra_maintenance: float
    portfolio_margin: float
    positions: pd.DataFrame
    account: str = "reg_t"

    @property
    def initial_requirement(self) -> float:
        """What new purchases are held to: Reg T initial, or the PM requirement in a portfolio account."""
        return self.portfolio_margin if self.account == "portfolio" else self.reg_t_initial

    @property
    def buying_power(self) -> float:
        """Market value the account can add: excess over the initial requirement / the initial rate."""
        rate = PM_SHOCK if self.account == "portfolio" else REG_T_INITIAL
        return max(0.0, self.equity - self.initial_requirement) / rate

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
            "account": self.account,
            "initial_requirement": self.initial_requirement,
            "buying_power": self.buying_power,
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
    """Margin of ``book`` (an :class:`astra.Book`).

    The call is measured against the account's maintenance requirement unless
    ``regime`` (``reg_t``, ``finra`` or ``portfolio``) names another.

    Examples
    --------
    >>> from astra import Book
    >>> book = Book.from_positions({"AAPL": 1000, "JPM": -500}, {"AAPL": 200.0, "JPM": 100.0}, equity=100_000)
    >>> m = margin(book)  # FINRA: 25 % × 200,000 + 30 % × 50,000 = 65,000 ≤ 100,000: no call
    >>> m.regime, m.finra_maintenance, m.call
    ('finra', 65000.0, 0.0)
    >>> m.reg_t_initial, m.buying_power  # 50 % × 250,000 = 125,000 > equity: no new purchases
    (125000.0, 0.0)
    >>> margin(book, regime="reg_t").call
    25000.0
    """
    regime = call_measure(book.margin_regime, regime)
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
        account=book.margin_regime,
    )
