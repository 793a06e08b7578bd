"""Stress tests of a book: worst historical windows, named episodes, hypothetical shocks.

All P&L are USD on today's exposures, buy-and-hold (shares fixed, multi-day
moves compounded per name); negative = loss.  Funding-rate shocks live with the
funding engine, not here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from astra.errors import InputError
from astra.risk._checks import align_book, as_exposures, horizon_returns_history

__all__ = ["EPISODES", "historical_episodes", "historical_worst_windows", "hypothetical_shocks", "stress_test"]

EPISODES: dict[str, tuple[str, str]] = {
    "oct_2008": ("2008-10-01", "2008-10-31"),
    "covid_crash": ("2020-02-19", "2020-03-23"),
    "rate_shock_2022": ("2022-01-03", "2022-06-16"),
}
_COLUMNS = ["kind", "pnl", "pnl_pct_gross", "start", "end", "days"]


def _frame(rows: list[dict], exposures: np.ndarray) -> pd.DataFrame:
    gross = float(np.abs(exposures).sum())
    out = pd.DataFrame(rows, columns=["scenario", *_COLUMNS[:2], *_COLUMNS[3:]])
    out["pnl_pct_gross"] = 100.0 * out["pnl"] / gross if gross > 0 else np.nan
    return out.set_index("scenario")[_COLUMNS]


def historical_worst_windows(exposures, returns, windows=(1, 5, 10)) -> pd.DataFrame:
    """Worst P&L over every ``w``-day window of history (overlapping, compounded per name).

    Parameters
    ----------
    exposures : array_like, shape (N,)
        Signed USD market values.
    returns : array_like or DataFrame, shape (T, N)
        Simple daily returns; a DatetimeIndex fills ``start``/``end``.
    windows : iterable of int
        Window lengths in trading days.

    Returns
    -------
    pandas.DataFrame
        Index ``worst_{w}d``; columns ``kind``, ``pnl`` (USD), ``pnl_pct_gross``
        (%), ``start``/``end`` (first and last return date of the window), ``days``.

    Examples
    --------
    >>> r = np.array([[0.01], [-0.05], [-0.02], [0.03]])
    >>> round(float(historical_worst_windows([100.0], r, windows=(1, 2)).loc["worst_2d", "pnl"]), 2)
    -6.9
    """
    e, r, index, _ = align_book(exposures, returns)
    rows = []
    for w in windows:
        if int(w) != w or not 1 <= w <= r.shape[0]:
            raise InputError(f"window {w!r} must be an integer number of days in [1, {r.shape[0]}]")
        pnl = horizon_returns_history(r, int(w)) @ e
        i = int(np.argmin(pnl))
        start, end = (index[i], index[i + int(w) - 1]) if index is not None else (i, i + int(w) - 1)
        rows.append({"scenario": f"worst_{int(w)}d", "kind": "historical", "pnl": float(pnl[i]),
                     "start": start, "end": end, "days": int(w)})  # fmt: skip
    return _frame(rows, e)


def historical_episodes(exposures, returns, episodes: dict | None = None) -> pd.DataFrame:
    """Replay named crises that the data cover: P&L from the close of ``start`` to the close of ``end``.

    Uses the returns dated in ``(start, end]``, compounded per name.  An
    episode is included only when the DatetimeIndex covers it (first return
    date ≤ start and last ≥ end); others are silently skipped, so a 2015–2022
    sample yields the Covid crash and the 2022 rate shock but not Oct 2008.

    Parameters
    ----------
    episodes : dict, optional
        ``name → (start, end)`` ISO dates; default :data:`EPISODES`.
    """
    e, r, index, _ = align_book(exposures, returns)
    rows = []
    if isinstance(index, pd.DatetimeIndex):
        for name, (lo, hi) in (EPISODES if episodes is None else episodes).items():
            start, end = pd.Timestamp(lo), pd.Timestamp(hi)
            if start > end:
                raise InputError(f"episode {name!r} starts {lo} after it ends {hi}")
            if index[0] > start or index[-1] < end:
                continue
            mask = np.asarray((index > start) & (index <= end))
            growth = np.prod(1.0 + r[mask], axis=0) - 1.0
            rows.append({"scenario": name, "kind": "episode", "pnl": float(growth @ e),
                         "start": start, "end": end, "days": int(mask.sum())})  # fmt: skip
    return _frame(rows, e)


def _betas(r: np.ndarray, market: np.ndarray) -> np.ndarray:
    m = market - market.mean()
    return ((r - r.mean(axis=0)).T @ m) / (m @ m)


def hypothetical_shocks(
    exposures, returns=None, *, market=None, market_shocks=(-0.10, -0.20), squeeze: float = 0.10, betas=None
) -> pd.DataFrame:
    """Instantaneous hypothetical shocks.

    * ``market_{s}``: the market moves by ``s`` and each name by ``β_i s``,
      ``β_i = cov(r_i, m)/var(m)`` by OLS on ``returns`` against ``market``
      (default: the equal-weight average of the names, a proxy — pass an index
      such as SPY for real betas), or ``betas`` given directly;
    * ``long_leg_down``: longs fall by ``squeeze``, shorts unchanged;
    * ``short_squeeze``: shorts rise by ``squeeze``, longs unchanged;
    * ``long_short_squeeze``: both at once (loses ``squeeze × gross``).

    Examples
    --------
    >>> df = hypothetical_shocks([100.0, -50.0], betas=[1.0, 2.0], market_shocks=(-0.1,))
    >>> df["pnl"].round(2).tolist()
    [0.0, -10.0, -5.0, -15.0]
    """
    e = as_exposures(exposures)
    if betas is not None:
        beta = np.asarray(betas, dtype=float)
        if beta.shape != e.shape:
            raise InputError(f"betas have shape {beta.shape}, exposures {e.shape}")
    elif returns is not None:
        e, r, _, _ = align_book(exposures, returns)
        m = r.mean(axis=1) if market is None else np.asarray(market, dtype=float).ravel()
        if m.size != r.shape[0] or not np.all(np.isfinite(m)):
            raise InputError(f"market series must have {r.shape[0]} finite rows aligned with returns, got {m.size}")
        beta = _betas(r, m)
    else:
        raise InputError("hypothetical_shocks needs returns (to estimate betas) or betas")
    if not 0.0 < squeeze < 1.0:
        raise InputError(f"squeeze {squeeze!r} must be a fraction in (0, 1), e.g. 0.10")
    longs, shorts = e.clip(min=0.0), e.clip(max=0.0)
    rows = [
        {"scenario": f"market_{s:+.0%}".replace("+", ""), "kind": "hypothetical", "pnl": float(s * beta @ e)}
        for s in market_shocks
    ]
    rows += [
        {"scenario": "long_leg_down", "kind": "hypothetical", "pnl": float(-squeeze * longs.sum())},
        {"scenario": "short_squeeze", "kind": "hypothetical", "pnl": float(squeeze * shorts.sum())},
        {"scenario": "long_short_squeeze", "kind": "hypothetical",
         "pnl": float(-squeeze * longs.sum() + squeeze * shorts.sum())},
    ]  # fmt: skip
    for row in rows:
        row.update(start=None, end=None, days=0)
    return _frame(rows, e)


def stress_test(
    exposures, returns, *, market=None, windows=(1, 5, 10), episodes=None, market_shocks=(-0.10, -0.20), squeeze=0.10
) -> pd.DataFrame:
    """All stress scenarios in one table: scenario → P&L (USD and % of gross)."""
    parts = [
        historical_worst_windows(exposures, returns, windows),
        historical_episodes(exposures, returns, episodes),
        hypothetical_shocks(exposures, returns, market=market, market_shocks=market_shocks, squeeze=squeeze),
    ]
    return pd.concat([p for p in parts if not p.empty])
