"""Honest performance metrics for a back-test.

The Sharpe ratio is computed on **daily** P&L (intraday bars summed per
session; a per-bar Sharpe of autocorrelated minute returns is not annualisable
by √bars), annualised by √252, with Lo's (2002) iid standard error
``√((1 + SR²/2) / n)`` on the daily ratio for a 95 % interval. Fewer than 60
days and the result says plainly that the Sharpe ratio is not meaningful.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MIN_DAYS_FOR_SHARPE", "Metrics", "daily_pnl", "lo_sharpe_interval", "metrics"]

MIN_DAYS_FOR_SHARPE = 60
DAYS_PER_YEAR = 252


def daily_pnl(pnl: pd.Series) -> pd.Series:
    """P&L summed per session (calendar day in the bars' timezone)."""
    index = pd.DatetimeIndex(pnl.index)
    days = index.tz_localize(None).normalize() if index.tz is not None else index.normalize()
    return pnl.groupby(days).sum()


def lo_sharpe_interval(daily_returns, level: float = 0.95) -> tuple[float, float, float]:
    """Annualised Sharpe ratio and its ``level`` interval (Lo 2002, iid returns).

    Examples
    --------
    >>> sr, lo, hi = lo_sharpe_interval(np.r_[np.full(126, 0.002), np.full(126, -0.001)])
    >>> round(float(sr), 3), round(float(hi - lo), 3)
    (5.281, 4.027)
    """
    from scipy.stats import norm

    r = np.asarray(daily_returns, dtype=float)
    n = r.size
    sd = r.std(ddof=1) if n > 1 else math.nan
    if n < 2 or not sd > 0:
        return math.nan, math.nan, math.nan
    sr = r.mean() / sd
    se = math.sqrt((1 + 0.5 * sr * sr) / n)
    z = norm.ppf(0.5 + level / 2)
    scale = math.sqrt(DAYS_PER_YEAR)
    return float(sr * scale), float((sr - z * se) * scale), float((sr + z * se) * scale)


@dataclass(frozen=True)
class Metrics:
    """Summary of a back-test (returns on capital)."""

    bars: int
    days: int
    trades: int
    total_return: float
    sharpe_ann: float
    sharpe_ci95: tuple[float, float]
    max_drawdown: float
    turnover: float
    hit_rate: float
    avg_hold_bars: float
    costs: float
    borrow: float
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "bars": self.bars,
            "days": self.days,
            "trades": self.trades,
            "total_return": self.total_return,
            "sharpe_ann": self.sharpe_ann,
            "sharpe_ci95": list(self.sharpe_ci95),
            "max_drawdown": self.max_drawdown,
            "turnover": self.turnover,
            "hit_rate": self.hit_rate,
            "avg_hold_bars": self.avg_hold_bars,
            "costs": self.costs,
            "borrow": self.borrow,
            "note": self.note,
        }


def metrics(result) -> Metrics:
    """Metrics of a :class:`~astra.statarb.backtest.BacktestResult`."""
    bars = result.bars
    capital = result.capital
    daily = daily_pnl(bars["pnl"]) / capital
    sharpe, lo, hi = lo_sharpe_interval(daily.to_numpy())
    equity = capital + bars["pnl"].cumsum()
    peak = np.maximum.accumulate(np.r_[capital, equity.to_numpy()])[1:]
    drawdown = float(np.max((peak - equity.to_numpy()) / peak, initial=0.0))
    traded = float((bars["shares_y"].diff().abs() * bars["y"] + bars["shares_x"].diff().abs() * bars["x"]).sum())
    traded += float(
        abs(bars["shares_y"].iloc[0]) * bars["y"].iloc[0] + abs(bars["shares_x"].iloc[0]) * bars["x"].iloc[0]
    )
    trades = result.trades
    note = ""
    if len(daily) < MIN_DAYS_FOR_SHARPE:
        note = (
            f"{len(daily)} trading days: too short for a meaningful Sharpe ratio "
            f"(need {MIN_DAYS_FOR_SHARPE}+); the interval shows how little it says"
        )
    return Metrics(
        bars=len(bars),
        days=len(daily),
        trades=len(trades),
        total_return=float(bars["pnl"].sum() / capital),
        sharpe_ann=sharpe,
        sharpe_ci95=(lo, hi),
        max_drawdown=drawdown,
        turnover=traded / capital / max(len(daily), 1),
        hit_rate=float((trades["pnl"] > 0).mean()) if len(trades) else math.nan,
        avg_hold_bars=float(trades["bars"].mean()) if len(trades) else math.nan,
        costs=result.costs,
        borrow=result.funding,
        note=note,
    )
