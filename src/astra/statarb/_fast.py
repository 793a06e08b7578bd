"""Numba kernels for the fused signal + P&L path used by sweeps.

Array-only (no pandas); the public modules convert at the edge. The fused P&L has its
reference in the tests: :func:`astra.statarb.backtest.backtest`. (The pair scan's kernel
is :mod:`astra.statarb._eg`.)
"""

from __future__ import annotations

import numba
import numpy as np

from astra.statarb.backtest import size_spread
from astra.statarb.signals import hold_step

__all__ = ["fused_pnl", "sweep_grid"]


@numba.njit(cache=True, nogil=True)
def _fused(z, py, px, beta, bar_in, left, day, n_days, entry, exit_, stop, max_hold, warmup, quiet, flat_close,
           capital, cost_rate, dollar_neutral, pnl_out):  # fmt: skip  # pragma: no cover
    """One pass: signal (decided at t), fill at t+1, P&L and costs; daily P&L returned, per-bar
    P&L written to ``pnl_out`` when it has one slot per bar."""
    n = py.shape[0]
    keep = pnl_out.shape[0] == n
    daily = np.zeros(n_days)
    pos, held, cooling = 0, 0, False
    decided = 0  # decision of the previous bar, executed now
    last = 0
    qy = 0.0
    qx = 0.0
    trades = 0
    for t in range(n):
        bar = 0.0
        if t > 0:
            bar = qy * (py[t] - py[t - 1]) + qx * (px[t] - px[t - 1])
            if decided != last:
                ny, nx = size_spread(decided, py[t - 1], px[t - 1], beta[t - 1], capital, dollar_neutral)
                bar -= cost_rate * (abs(ny - qy) * py[t] + abs(nx - qx) * px[t])
                qy, qx = ny, nx
                if decided != 0:
                    trades += 1
                last = decided
        pos, held, cooling = hold_step(z[t], t, pos, held, cooling, bar_in[t], left[t], entry, exit_, stop,
                                       max_hold, warmup, quiet, flat_close)  # fmt: skip
        decided = pos
        daily[day[t]] += bar
        if keep:
            pnl_out[t] = bar
    return daily, trades


def fused_pnl(z, py, px, beta, bar_in, left, entry, exit_, stop, max_hold, warmup, quiet, flat_close,
              capital, cost_rate, dollar_neutral):  # fmt: skip
    """Net P&L per bar (before funding) of the hold rules on ``z``: the back-test without pandas."""
    pnl = np.zeros(len(py))
    day = np.zeros(len(py), dtype=np.int64)
    _fused(z, py, px, beta, bar_in, left, day, 1, entry, exit_, stop, max_hold, warmup, quiet, flat_close,
           capital, cost_rate, dollar_neutral, pnl)  # fmt: skip
    return pnl


@numba.njit(cache=True, nogil=True, parallel=True)
def sweep_grid(z, py, px, beta, bar_in, left, day, n_days, entries, exits, stop, max_hold, warmup, quiet,
               flat_close, capital, cost_rate, dollar_neutral):  # fmt: skip  # pragma: no cover
    """Total return, trades and daily Sharpe ratio (√252) for every (entry, exit) cell."""
    ne, nx = entries.shape[0], exits.shape[0]
    total = np.full((ne, nx), np.nan)
    trades = np.zeros((ne, nx), dtype=np.int64)
    sharpe = np.full((ne, nx), np.nan)
    empty = np.zeros(0)
    for cell in numba.prange(ne * nx):
        i = cell // nx
        j = cell % nx
        if exits[j] >= entries[i] or stop <= entries[i]:
            continue
        daily, count = _fused(z, py, px, beta, bar_in, left, day, n_days, entries[i], exits[j], stop, max_hold,
                              warmup, quiet, flat_close, capital, cost_rate, dollar_neutral, empty)  # fmt: skip
        total[i, j] = daily.sum() / capital
        trades[i, j] = count
        if n_days > 1:
            r = daily / capital
            s = r.std() * np.sqrt(n_days / (n_days - 1.0))
            if s > 0:
                sharpe[i, j] = r.mean() / s * np.sqrt(252.0)
    return total, trades, sharpe
