"""Risk workflows on a client book: VaR/ES, stress (incl. funding and reverse stress), VaR backtests.

The book's shares are held fixed and its names' return history comes from the data
layer; the risk engine (:mod:`astra.risk`) works on the resulting exposures and returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from astra.book import Book
from astra.config import check_number
from astra.data import load_prices, returns
from astra.data.providers.sample import MARKET_TICKER
from astra.errors import InputError
from astra.funding import carry
from astra.funding.margin import requirements
from astra.risk import backtest_var, rolling_var_forecasts, stress_test, var
from astra.risk.var import VaRResult

__all__ = [
    "BookHistory",
    "RiskBacktestReport",
    "RiskVarReport",
    "StressReport",
    "book_history",
    "reverse_stress",
    "risk_backtest",
    "risk_stress",
    "risk_var",
]


@dataclass(frozen=True)
class BookHistory:
    """A book's exposures and its names' daily simple returns (rows where every name has a price)."""

    book: Book
    exposures: np.ndarray
    returns: pd.DataFrame
    market: pd.Series | None
    source: str

    @property
    def pnl(self) -> pd.Series:
        """Historical one-day P&L of today's book (shares fixed)."""
        return pd.Series(self.returns.to_numpy() @ self.exposures, index=self.returns.index, name="pnl")


def book_history(book: Book, *, source: str = "sample", start=None, end=None, offline: bool = False,
                 min_rows: int = 30) -> BookHistory:  # fmt: skip
    """Load the return history of ``book``'s names (and the market series where the source has one)."""
    if not book.tickers:
        raise InputError(f"{book.name}: the book has no positions to risk")
    names = list(book.tickers)
    with_market = source == "sample" and MARKET_TICKER not in names
    data = load_prices([*names, MARKET_TICKER] if with_market else names, source, start, end, offline=offline)
    daily = returns(data.prices).dropna()
    if len(daily) < min_rows:
        raise InputError(
            f"only {len(daily)} days where every name in {book.name} has a price; need {min_rows} (widen --start)"
        )
    market = daily[MARKET_TICKER] if with_market else None
    return BookHistory(book, np.asarray(book.market_values, float), daily[names], market, data.meta.source)


@dataclass(frozen=True)
class RiskVarReport:
    """VaR/ES of a book, with the historical P&L sample used to draw its distribution."""

    history: BookHistory
    result: VaRResult

    def to_dict(self) -> dict[str, Any]:
        h = self.history
        return {
            "book": h.book.name,
            "gross": h.book.gross,
            "source": h.source,
            "observations": len(h.returns),
            "history_start": h.returns.index[0].date().isoformat(),
            "history_end": h.returns.index[-1].date().isoformat(),
            **self.result.to_dict(),
        }


def risk_var(book: Book, *, source="sample", start=None, end=None, offline=False, **options) -> RiskVarReport:
    """VaR/ES of ``book`` (``options`` go to :func:`astra.risk.var`: method, level, horizon, dist, …)."""
    history = book_history(book, source=source, start=start, end=end, offline=offline)
    window = options.get("window")
    if window is not None and window > len(history.returns):
        raise InputError(f"--window {window} is longer than the {len(history.returns)} days of history")
    result = var(history.exposures, history.returns, tickers=list(book.tickers), **options)
    return RiskVarReport(history, result)


def reverse_stress(book: Book, *, regime: str | None = None, lo: float = -0.99, hi: float = 10.0) -> dict[str, Any]:
    """Smallest uniform price move (down and up) at which the account's margin excess turns negative.

    Every price moves by ``m``: P&L is ``net · m``, equity becomes ``E + net · m`` and the
    requirement is recomputed at the moved prices (per-share minimums included). Found by
    bisection to 1e-6; ``None`` where no move in ``[lo, hi]`` breaches.
    """
    regime = regime or book.margin_regime
    q, p = book.quantities, book.prices

    def excess(m: float) -> float:
        req = requirements(q, p * (1 + m))
        column = {"reg_t": "reg_t", "finra": "finra", "portfolio": "portfolio"}[regime]
        return book.equity + book.net * m - float(req[column].sum())

    base = excess(0.0)
    out: dict[str, Any] = {"regime": regime, "excess_now": base}
    if base < 0:
        out.update(down=0.0, up=0.0, note="already in deficit: the account is in a margin call now")
        return out
    for side, limit in (("down", lo), ("up", hi)):
        if excess(limit) >= 0:
            out[side] = None
            continue
        a, b = 0.0, limit
        while abs(b - a) > 1e-6:
            mid = (a + b) / 2
            a, b = (mid, b) if excess(mid) >= 0 else (a, mid)
        out[side] = b
    return out


@dataclass(frozen=True)
class StressReport:
    """Scenario table (USD, % of gross), the funding-rate shock and the reverse stress."""

    book: Book
    table: pd.DataFrame
    reverse: dict[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        rows = [
            {"scenario": str(name), **{k: _plain(v) for k, v in row.items()}} for name, row in self.table.iterrows()
        ]
        return {"book": self.book.name, "gross": self.book.gross, "scenarios": rows, "reverse_stress": self.reverse,
                "notes": list(self.notes)}  # fmt: skip


def _plain(value):
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value if isinstance(value, int | str | bool) or value is None else str(value)


def risk_stress(book: Book, *, source="sample", start=None, end=None, offline=False, rate: float = 0.043,
                rate_shock_bp: float = 100.0, groups: dict[str, str] | None = None, sector_shock: float = -0.10,
                market_shocks=(-0.10, -0.20), squeeze: float = 0.10) -> StressReport:  # fmt: skip
    """Historical windows and episodes, hypothetical shocks, sector shocks, a benchmark-rate shock
    priced by the funding engine (one year of carry at the shocked rate), and reverse stress."""
    check_number(rate_shock_bp, "--rate-shock-bp", minimum=-1000, maximum=1000)
    history = book_history(book, source=source, start=start, end=end, offline=offline)
    market = None if history.market is None else history.market.to_numpy()
    table = stress_test(history.exposures, history.returns, market=market, market_shocks=market_shocks,
                        squeeze=squeeze)  # fmt: skip
    extra = []
    if groups:
        unknown = sorted(set(groups) - set(book.tickers))
        if unknown:
            raise InputError(f"groups file names {', '.join(unknown)}, not in the book")
        for group in sorted(set(groups.values())):
            members = np.array([groups.get(t) == group for t in book.tickers])
            pnl = float(history.exposures[members].sum() * sector_shock)
            extra.append({"scenario": f"sector_{group}_{sector_shock:+.0%}", "kind": "hypothetical", "pnl": pnl,
                          "days": 0})  # fmt: skip
    shocked = rate + rate_shock_bp / 1e4
    days = 360 if book.funding.day_count == "ACT/360" else 365
    delta = carry(book, shocked, days=1).daily_carry - carry(book, rate, days=1).daily_carry
    extra.append({"scenario": f"benchmark_{rate_shock_bp:+.0f}bp_1y", "kind": "funding", "pnl": delta * days,
                  "days": days})  # fmt: skip
    added = pd.DataFrame(extra).set_index("scenario")
    added["pnl_pct_gross"] = 100.0 * added["pnl"] / book.gross if book.gross else np.nan
    table = pd.concat([table, added.reindex(columns=table.columns)])
    notes = []
    if history.market is None:
        notes.append("market shocks use the equal-weight average of the book's names as the market proxy")
    return StressReport(book, table, reverse_stress(book), tuple(notes))


@dataclass(frozen=True)
class RiskBacktestReport:
    """Rolling one-day forecasts against realised P&L, and the tests on them."""

    book: Book
    forecasts: pd.DataFrame
    result: Any
    method: str
    window: int

    def to_frame(self) -> pd.DataFrame:
        return self.forecasts.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"book": self.book.name, "method": self.method, "window": self.window, **self.result.to_dict()}


def risk_backtest(book: Book, *, method="hist", window=500, level=0.99, source="sample", start=None, end=None,
                  offline=False, seed=None, **options) -> RiskBacktestReport:  # fmt: skip
    """Rolling ``window``-day VaR/ES forecasts of today's book over its history, back-tested."""
    history = book_history(book, source=source, start=start, end=end, offline=offline, min_rows=window + 50)
    if method in ("mc", "fhs"):
        options.setdefault("scenarios", 5_000)
        options["seed"] = seed
    forecasts = rolling_var_forecasts(history.exposures, history.returns, method=method, window=window, level=level,
                                      **options)  # fmt: skip
    result = backtest_var(forecasts["pnl"], forecasts["var"], level, forecasts["es"], seed=seed)
    return RiskBacktestReport(book, forecasts, result, method, window)
