"""Two-leg back-test: decided on bar t, filled at bar t+1, costs and funding charged.

Positions are in shares. On entry the spread is sized to ``capital`` of gross
notional: ``n = capital / (p_y + |β| p_x)`` units of (1 share y, −β shares x), or
with ``dollar_neutral`` equal dollars in each leg; shares are then held fixed
until the position changes (no daily re-hedging churn). A decision made on bar
``t`` (after its close) is executed at bar ``t + 1``'s price, so a price at or
after ``t + 1`` can never change a position decided at ``t``.

P&L over bar ``t`` is ``q_y,t−1 Δp_y + q_x,t−1 Δp_x`` (overnight gaps included),
trading costs are ``(cost_bps + half_spread_bps)`` of traded notional, and holdings
at each session close accrue funding for the days to the next session, priced by
:func:`astra.funding.funding_legs` (the funding engine's model, not a copy) as
the carry of the holdings minus the carry of holding the capital in cash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import pandas as pd

from astra.config import check_number
from astra.errors import InputError
from astra.funding import FundingTerms, funding_legs
from astra.funding.daycount import check_day_count

__all__ = ["BacktestResult", "backtest"]


@numba.njit(cache=True, nogil=True, inline="always")
def size_spread(s, py, px, b, capital, dollar_neutral):  # pragma: no cover
    """Shares (y, x) of a new spread position ``s`` sized at prices ``py``, ``px`` with hedge ratio ``b``."""
    if s == 0:
        return 0.0, 0.0
    if dollar_neutral:
        return s * 0.5 * capital / py, -s * np.sign(b) * 0.5 * capital / px
    units = capital / (py + abs(b) * px)
    return s * units, -s * b * units


@numba.njit(cache=True, nogil=True)
def _shares(py, px, beta, signal, capital, dollar_neutral):  # pragma: no cover
    n = py.shape[0]
    qy = np.zeros(n)
    qx = np.zeros(n)
    cur_y = 0.0
    cur_x = 0.0
    last = 0
    for t in range(1, n):
        s = signal[t - 1]  # decided at t-1, executed at t
        if s != last:
            cur_y, cur_x = size_spread(s, py[t - 1], px[t - 1], beta[t - 1], capital, dollar_neutral)
            last = s
        qy[t] = cur_y
        qx[t] = cur_x
    return qy, qx


@dataclass(frozen=True)
class BacktestResult:
    """Bar-by-bar holdings and P&L (USD), and the trade list."""

    bars: pd.DataFrame
    trades: pd.DataFrame
    capital: float
    costs: float
    funding: float

    @property
    def pnl(self) -> pd.Series:
        return self.bars["pnl"]

    def to_frame(self) -> pd.DataFrame:
        return self.bars.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "capital": self.capital,
            "total_pnl": float(self.bars["pnl"].sum()),
            "costs": self.costs,
            "funding": self.funding,
            "trades": len(self.trades),
        }


def _trade_list(index, executed: np.ndarray, gross: np.ndarray, net: np.ndarray) -> pd.DataFrame:
    """One row per round trip. A trade owns its bars' net P&L from its entry bar until the next
    trade starts, with the price move of each boundary bar given to the holdings that earned it
    (at a flip the bar's trading costs go to the new trade); the rows sum to the total."""
    n = len(executed)
    changes = np.nonzero(np.diff(executed, prepend=0))[0]
    starts = [t for t in changes if executed[t] != 0]
    rows = []
    for k, start in enumerate(starts):
        following = starts[k + 1] if k + 1 < len(starts) else n
        side = executed[start]
        stop = start
        while stop < n and executed[stop] == side:
            stop += 1
        value = net[start:following].sum() - gross[start]
        if following < n:
            value += gross[following]
        rows.append(
            {
                "entry": index[start],
                "exit": index[min(stop, n - 1)],
                "side": "long spread" if side > 0 else "short spread",
                "bars": int(stop - start),
                "pnl": float(value),
            }
        )
    return pd.DataFrame(rows, columns=["entry", "exit", "side", "bars", "pnl"],
                        index=pd.RangeIndex(1, len(rows) + 1, name="trade"))  # fmt: skip


def backtest(
    y: pd.Series,
    x: pd.Series,
    beta,
    signal,
    *,
    capital: float = 1_000_000.0,
    cost_bps: float = 1.0,
    half_spread_bps: float = 0.0,
    dollar_neutral: bool = False,
    funding: FundingTerms | None = None,
    rate: float | None = None,
) -> BacktestResult:
    """Back-test spread positions ``signal`` (decided per bar) on legs ``y`` and ``x``.

    Parameters
    ----------
    y, x
        Aligned prices (same index, no NaN).
    beta
        Hedge ratio known at each bar (shares of x per share of y).
    signal
        Position decided at each bar: +1 long spread, −1 short, 0 flat.
    funding, rate
        Funding terms and benchmark (decimal); both given → overnight carry is charged.
    """
    if not y.index.equals(x.index):
        raise InputError("the legs are not aligned on the same bars")
    py, px = y.to_numpy(dtype=float), x.to_numpy(dtype=float)
    beta = np.asarray(beta, dtype=float)
    signal = np.asarray(signal, dtype=np.int8)
    n = len(py)
    if len(beta) != n or len(signal) != n:
        raise InputError("beta and signal must have one value per bar")
    if n < 3 or not (np.all(np.isfinite(py)) and np.all(np.isfinite(px))) or np.any(py <= 0) or np.any(px <= 0):
        raise InputError("prices must be positive and finite, at least 3 bars")
    check_number(capital, "--capital", minimum=0, exclusive_minimum=True)
    check_number(cost_bps, "--cost-bps", minimum=0, maximum=1000)
    check_number(half_spread_bps, "--half-spread-bps", minimum=0, maximum=1000)
    beta = np.where(np.isfinite(beta), beta, 0.0)
    qy, qx = _shares(py, px, beta, signal, float(capital), bool(dollar_neutral))
    pnl = np.zeros(n)
    pnl[1:] = qy[:-1] * np.diff(py) + qx[:-1] * np.diff(px)
    traded = np.abs(np.diff(qy, prepend=0.0)) * py + np.abs(np.diff(qx, prepend=0.0)) * px
    costs = traded * (cost_bps + half_spread_bps) / 1e4
    carry = np.zeros(n)
    if funding is not None and rate is not None:
        carry = _session_carry(y.index, qy, qx, py, px, funding, rate, capital)
    net = pnl - costs + carry
    executed = np.sign(qy).astype(np.int8)
    bars = pd.DataFrame(
        {
            "y": py, "x": px, "beta": beta, "signal": signal, "shares_y": qy, "shares_x": qx,
            "gross_pnl": pnl, "costs": costs, "funding": carry, "pnl": net,
        },
        index=y.index,
    )  # fmt: skip
    return BacktestResult(
        bars=bars,
        trades=_trade_list(y.index, executed, pnl, net),
        capital=float(capital),
        costs=float(costs.sum()),
        funding=float(carry.sum()),
    )


def _session_carry(index, qy, qx, py, px, terms: FundingTerms, rate: float, capital: float) -> np.ndarray:
    """Funding on holdings at each session close, for the calendar days to the next session."""
    from astra.data import calendar
    from astra.funding import collateral_per_share

    value_y, value_x = qy * py, qx * px
    stamps = pd.DatetimeIndex(index)
    days = stamps.tz_localize(None).normalize() if stamps.tz is not None else stamps.normalize()
    last_of_day = np.r_[days[1:] != days[:-1], True]
    rates = terms.annual_rates(rate, ["Y", "X"])
    basis = check_day_count(terms.day_count)
    flat = funding_legs(np.zeros(2), capital, rates, terms.model).annual(rate).sum()
    out = np.zeros(len(index))
    for t in np.nonzero(last_of_day & ((value_y != 0) | (value_x != 0)))[0]:
        day = days[t]
        n_days = calendar.accrual_days(day) if calendar.is_session(day) else 1
        collateral = np.array([abs(qy[t]), abs(qx[t])]) * collateral_per_share(np.array([py[t], px[t]]))
        values = np.array([value_y[t], value_x[t]])
        held = funding_legs(values, capital, rates, terms.model, collateral=collateral).annual(rate).sum()
        out[t] = (held - flat) * n_days / basis
    return out
