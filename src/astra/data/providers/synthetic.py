"""Seeded synthetic data, always labelled synthetic in its metadata.

* :func:`cointegrated_pair`: an intraday pair on the XNYS 1-minute session
  grid, ``y_t = α + β_t·x_t + s_t`` with a random-walk hedge ratio ``β_t``, a
  mean-reverting AR(1) spread ``s_t`` of a given half-life, and Student-t
  innovations for fat tails.  The truth (β path, spread) is returned with it.
* :func:`factor_panel`: daily prices for any tickers from a k-factor model
  on XNYS sessions (for optimiser and risk benchmarks, or offline demos).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from astra.data import calendar
from astra.data._frame import PriceData, PriceMeta
from astra.errors import InputError

__all__ = ["SyntheticPair", "cointegrated_pair", "factor_panel"]

_LABEL = "synthetic: generated, not market data"


def _student(rng: np.random.Generator, size, tail_df: float | None) -> np.ndarray:
    """Unit-variance innovations: normal, or Student-t scaled to variance 1."""
    if tail_df is None:
        return rng.standard_normal(size)
    if tail_df <= 2:
        raise InputError(f"tail_df {tail_df!r} must be > 2 (finite variance)")
    return rng.standard_t(tail_df, size) * np.sqrt((tail_df - 2.0) / tail_df)


@dataclass(frozen=True)
class SyntheticPair:
    """A synthetic pair and the truth that generated it."""

    data: PriceData
    beta: pd.Series  # true hedge ratio path
    spread: pd.Series  # true spread s_t
    alpha: float
    half_life_bars: float


def cointegrated_pair(
    days: int = 5,
    *,
    end="2026-11-20",
    x0: float = 60.0,
    alpha: float = 5.0,
    beta0: float = 1.5,
    beta_drift: float = 1e-4,
    half_life_bars: float = 30.0,
    spread_vol: float = 0.05,
    x_vol_bar: float = 5e-4,
    tail_df: float | None = 5.0,
    names: tuple[str, str] = ("SYN_X", "SYN_Y"),
    seed=0,
) -> SyntheticPair:
    """A cointegrated 1-minute pair on the last ``days`` XNYS sessions up to ``end``.

    Parameters
    ----------
    days : int
        Number of sessions (1 to 260).
    beta_drift : float
        Standard deviation of the per-bar random-walk step of β.
    half_life_bars : float
        Half-life of the spread in bars: ``φ = 0.5 ** (1 / half_life_bars)``.
    spread_vol : float
        Stationary standard deviation of the spread, in price units.
    x_vol_bar : float
        Per-bar log-return volatility of ``x``.
    tail_df : float or None
        Student-t degrees of freedom of all innovations (None: normal).
    seed : int or numpy.random.Generator

    Examples
    --------
    >>> pair = cointegrated_pair(days=2, seed=1)
    >>> pair.data.prices.shape[1], pair.data.meta.synthetic
    (2, True)
    """
    if not 1 <= int(days) <= 260:
        raise InputError(f"days {days!r} must be between 1 and 260")
    if half_life_bars <= 0 or spread_vol <= 0 or x_vol_bar <= 0 or beta_drift < 0:
        raise InputError("half_life_bars, spread_vol and x_vol_bar must be > 0 and beta_drift >= 0")
    rng = np.random.default_rng(seed)
    last = pd.Timestamp(end)
    first_guess = last - pd.Timedelta(days=int(days * 1.6) + 10)
    session_days = calendar.sessions(first_guess, last)[-int(days) :]
    stamps = calendar.session_minutes(session_days[0], session_days[-1])
    n = len(stamps)
    log_x = np.log(x0) + np.cumsum(x_vol_bar * _student(rng, n, tail_df))
    beta = beta0 + np.cumsum(beta_drift * _student(rng, n, tail_df))
    phi = 0.5 ** (1.0 / half_life_bars)
    innov_sd = spread_vol * np.sqrt(1.0 - phi * phi)
    shocks = innov_sd * _student(rng, n, tail_df)
    spread = np.empty(n)
    spread[0] = spread_vol * rng.standard_normal()
    for t in range(1, n):
        spread[t] = phi * spread[t - 1] + shocks[t]
    x = np.exp(log_x)
    y = alpha + beta * x + spread
    if np.any(y <= 0):
        raise InputError("parameters give non-positive y prices; raise alpha or beta0")
    frame = pd.DataFrame({names[0]: x, names[1]: y}, index=stamps)
    meta = PriceMeta(
        source=f"synthetic:pair(seed={seed})",
        interval="1m",
        adjusted=False,
        timezone=calendar.NEW_YORK,
        synthetic=True,
        notes=(_LABEL,),
    )
    return SyntheticPair(
        data=PriceData(frame, meta),
        beta=pd.Series(beta, index=stamps, name="beta"),
        spread=pd.Series(spread, index=stamps, name="spread"),
        alpha=alpha,
        half_life_bars=half_life_bars,
    )


def _ticker_seed(seed: int, tickers) -> int:
    digest = hashlib.sha256(("|".join(tickers) + f"#{seed}").encode()).digest()
    return int.from_bytes(digest[:8], "little")


def factor_panel(
    tickers,
    start="2020-01-01",
    end="2022-12-30",
    *,
    n_factors: int = 8,
    factor_vol_ann: float = 0.12,
    idio_vol_ann: float = 0.25,
    seed: int = 0,
) -> PriceData:
    """Daily prices from a ``k``-factor model on XNYS sessions, reproducible per seed.

    Log returns ``r = B·f + e`` with ``f ~ N(0, σ_f²/252)``, loadings
    ``B ~ N(1/√k, 0.5/√k)`` (so the first factor acts like a market), and
    idiosyncratic ``e ~ N(0, σ_e²/252)``; prices start at 100.
    """
    names = [str(t).strip().upper() for t in tickers]
    if not names or len(set(names)) != len(names):
        raise InputError("factor_panel needs distinct tickers")
    if not 1 <= n_factors <= 100:
        raise InputError(f"n_factors {n_factors!r} must be between 1 and 100")
    days = calendar.sessions(start, end)
    rng = np.random.default_rng(_ticker_seed(int(seed), names))
    n, t = len(names), len(days)
    loadings = rng.normal(1.0 / np.sqrt(n_factors), 0.5 / np.sqrt(n_factors), size=(n, n_factors))
    factors = rng.standard_normal((t, n_factors)) * factor_vol_ann / np.sqrt(252.0)
    idio = rng.standard_normal((t, n)) * idio_vol_ann / np.sqrt(252.0)
    log_returns = factors @ loadings.T + idio
    log_returns[0] = 0.0
    prices = 100.0 * np.exp(np.cumsum(log_returns, axis=0))
    frame = pd.DataFrame(prices, index=days, columns=names)
    meta = PriceMeta(
        source=f"synthetic:factor(k={n_factors},seed={seed})",
        adjusted=False,
        synthetic=True,
        notes=(_LABEL,),
    )
    return PriceData(frame, meta)
