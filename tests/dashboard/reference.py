"""Independent references for the dashboard tests: carry, historical VaR and book files written out here.

Nothing here calls ASTRA: closes come straight from skfolio's S&P 500 dataset (the data
behind the offline sample), business days from exchange_calendars, the carry formula
from DESIGN.md's cash convention (as tests/test_consistency.py writes it), the VaR from
numpy's inverted-CDF quantile (the definition in astra/risk/var.py's docstring).
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
from skfolio.datasets import load_sp500_dataset, load_sp500_index

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "book.toml"
SAMPLE_SHARES = {"AAPL": 3_000, "MSFT": 1_600, "AMD": 6_000, "JPM": -3_000, "BAC": -12_000}
RATE = 0.043  # the dashboard's default benchmark (DEFAULT_BENCHMARK_RATE), flat
CARRY_DAY = "2022-12-23"  # the funding page's default accrual day (a Friday before Christmas: 4 nights)
GC_FEE, HARD_TO_BORROW = 0.0025, {"BAC": 0.0040}  # examples/book.toml's [funding] fees


@functools.cache
def _closes() -> pd.DataFrame:
    return load_sp500_dataset().join(load_sp500_index(), how="left")


def closes() -> pd.DataFrame:
    """Daily closes of the sample's 20 stocks and the S&P 500 index (skfolio), a fresh copy."""
    return _closes().copy()


def next_session(day: pd.Timestamp) -> pd.Timestamp:
    """The XNYS session after ``day`` (exchange_calendars; its pandas-3.1 deprecation is not ours to fix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        calendar = xcals.get_calendar("XNYS", start="2015-01-01", end="2023-12-31")
        return calendar.sessions_in_range(day + pd.Timedelta(days=1), day + pd.Timedelta(days=10))[0]


def carry(shares: dict[str, float], day: str = CARRY_DAY, *, prices: pd.DataFrame | None = None,
          rate: float = RATE, equity: float = 1_000_000) -> float:  # fmt: skip
    """One day's carry (USD, + = client receives) of ``shares`` under examples/book.toml's terms.

    Cash convention (DESIGN.md): the long debit beyond equity pays B + 75 bp on its first
    $100,000 and B + 50 bp above; free cash earns B − 25 bp; short proceeds earn the
    rebate B − 25 bp; the borrow fee is charged on 102 % of the price rounded up to a
    dollar; ACT/360 over the nights to the next XNYS session; marks are ``day``'s closes.
    """
    stamp = pd.Timestamp(day)
    close = (closes() if prices is None else prices).loc[:stamp].iloc[-1]
    nights = (next_session(stamp) - stamp).days
    values = {t: q * float(close[t]) for t, q in shares.items()}
    longs = sum(v for v in values.values() if v > 0)
    debit = max(0.0, longs - equity)
    financing = -(min(debit, 100_000) * (rate + 0.0075) + max(0.0, debit - 100_000) * (rate + 0.0050))
    credit = max(0.0, equity - longs) * (rate - 0.0025)
    rebate = sum(-v * (rate - 0.0025) for v in values.values() if v < 0)
    borrow = -sum(-q * math.ceil(round(1.02 * float(close[t]), 8)) * HARD_TO_BORROW.get(t, GC_FEE)
                  for t, q in shares.items() if q < 0)  # fmt: skip
    return (financing + credit + rebate + borrow) * nights / 360


def hist_var(shares: dict[str, float], *, start: str = "2015-01-01", level: float = 0.99) -> float:
    """One-day historical VaR (USD loss) of ``shares`` marked at the last close, over the days every name
    (and the S&P 500, which the risk history loads with the sample) has a close since ``start``."""
    frame = closes()[[*shares, "SP500"]].loc[start:]
    daily = (frame / frame.shift(1) - 1).iloc[1:].dropna()
    last = closes()[list(shares)].iloc[-1]
    exposures = np.array([q * float(last[t]) for t, q in shares.items()])
    pnl = daily[list(shares)].to_numpy() @ exposures
    return float(-np.quantile(pnl, 1 - level, method="inverted_cdf"))


def book_text(name: str, shares: dict[str, float]) -> str:
    """examples/book.toml with another account name and positions (same equity and funding terms)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^name = ".*?"', f'name = "{name}"', text, count=1)
    lines = "\n".join(f"{t} = {q}" for t, q in shares.items())
    return re.sub(r"(?ms)^\[positions\][^\n]*\n.*?\n\n", f"[positions]\n{lines}\n\n", text, count=1)


def money(text: str) -> float:
    """``-$1,234.56`` → -1234.56 (what the dashboard shows, read back)."""
    return float(re.sub(r"[$,]", "", text))
