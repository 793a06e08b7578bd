"""Data workflows: prices with their quality report, and the benchmark rate."""

from __future__ import annotations

import pandas as pd

from astra.data import PriceData, RateSeries, load_prices
from astra.data.tables import read_ticker_list
from astra.errors import InputError
from astra.workflows.common import date_range, iso, last_session, resolve_rate

__all__ = ["available_tickers", "benchmark_rates", "price_data", "read_universe", "universe"]


def read_universe(path) -> list[str]:
    """Tickers from a CSV with a ``ticker`` column (:func:`astra.data.tables.read_ticker_list`)."""
    return read_ticker_list(path, what="universe file")


def universe(tickers=(), *, universe_file=None) -> list[str] | None:
    """Tickers typed (space- or comma-separated, in any number of arguments) plus those of a universe file."""
    names = [t for item in tickers or () for t in str(item).replace(",", " ").split()]
    if universe_file is not None:
        names += read_universe(universe_file)
    names = [n.strip().upper() for n in names]
    return list(dict.fromkeys(names)) or None


def price_data(tickers=(), *, source: str = "sample", start=None, end=None, interval: str = "1d",
               offline: bool = False, universe_file=None) -> PriceData:  # fmt: skip
    """Cleaned closes aligned to XNYS with their data-quality report (all the source has if no tickers)."""
    lo, hi = date_range(start, end)
    names = universe(tickers, universe_file=universe_file)
    return load_prices(names, source, iso(lo), iso(hi), interval=interval, offline=offline)


def benchmark_rates(rate: float | None = None, rate_source: str | None = None, *, start=None, end=None,
                    unit: str = "percent", offline: bool = False) -> RateSeries:  # fmt: skip
    """The funding benchmark as an ACT/360 money-market yield, exactly as funding resolves it (last year by default)."""
    lo, hi = date_range(start, end)
    hi = hi or last_session()
    lo = lo if lo is not None else hi - pd.Timedelta(days=365)
    series = resolve_rate(rate, rate_source, lo, hi, offline=offline, unit=unit)
    return RateSeries(series.rates.loc[lo:], series.source, series.convention, series.filled, series.synthetic,
                      series.notes)  # fmt: skip


def available_tickers(source: str = "sample") -> list[str]:
    """The tradable names a local source holds (the sample's 20 stocks, a file's columns), market index excluded."""
    if source == "sample":
        from astra.data.providers.sample import MARKET_TICKER, sample_tickers

        return [t for t in sample_tickers() if t != MARKET_TICKER]
    if source.split(":", 1)[0] in ("csv", "parquet"):
        return list(price_data((), source=source).tickers)
    raise InputError(f"source {source!r} has no fixed list of names; type the tickers")
