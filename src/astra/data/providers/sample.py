"""The offline sample: real adjusted daily closes shipped inside skfolio.

20 US large caps, 1990-01-02 to 2022-12-28 (``skfolio.datasets.load_sp500_dataset``)
and the S&P 500 index as ``SP500`` (``load_sp500_index``). BSD-3 licensed, no network.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import pandas as pd

from astra.data._frame import PriceData, PriceMeta, check_price_frame
from astra.errors import DataUnavailable, InputError

__all__ = ["MARKET_TICKER", "load_sample", "sample_tickers"]

MARKET_TICKER = "SP500"
_SOURCE = "sample"


def _data_file(name: str) -> Path:
    """A file of skfolio's bundled datasets, located without importing skfolio (~1.8 s of imports)."""
    spec = importlib.util.find_spec("skfolio")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailable("the offline sample needs the skfolio package (pip install -r requirements.lock)")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.is_file():
        raise DataUnavailable(f"the offline sample file {name} is missing from {path.parent}")
    return path


def _read(name: str) -> pd.DataFrame:
    """Read one bundled file the way ``skfolio.datasets.load_gzip_compressed_csv_data`` does."""
    frame = pd.read_csv(_data_file(name), sep=",", index_col=0, compression="gzip")
    frame.index = pd.to_datetime(frame.index, format="%Y-%m-%d")
    return frame


@lru_cache(maxsize=1)
def _sample_frame() -> pd.DataFrame:
    """The sample, read once per process (two compressed CSVs, ~0.1 s).

    Shared: callers select from it and must not modify it in place.
    """
    stocks = _read("sp500_dataset.csv.gz")
    index = _read("sp500_index.csv.gz")
    frame = pd.concat([stocks, index.rename(columns={index.columns[0]: MARKET_TICKER})], axis=1)
    return frame


def sample_tickers() -> list[str]:
    """Tickers the offline sample holds (the 20 stocks and ``SP500``)."""
    return [str(c) for c in _sample_frame().columns]


def load_sample(tickers=None, start=None, end=None) -> PriceData:
    """Load real daily closes from the offline sample.

    Parameters
    ----------
    tickers : sequence of str, optional
        Tickers to keep (default: the 20 stocks, without ``SP500``).
    start, end : date-like, optional
        Inclusive date range.

    Examples
    --------
    >>> data = load_sample(["AAPL", "JPM"], start="2020-01-01", end="2020-12-31")
    >>> data.prices.shape
    (253, 2)
    """
    frame = _sample_frame()
    if tickers is None:
        tickers = [c for c in frame.columns if c != MARKET_TICKER]
    wanted = [str(t).strip().upper() for t in tickers]
    missing = [t for t in wanted if t not in frame.columns]
    if missing:  # the sample's names are fixed and listed: asking for another is bad input (exit 2)
        raise InputError(
            f"ticker(s) {', '.join(missing)} not in the offline sample; it has: {', '.join(frame.columns)}"
        )
    frame = check_price_frame(frame[wanted], source=_SOURCE)
    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"start {lo.date()} is after end {hi.date()}")
    frame = frame.loc[lo:hi]
    if frame.empty:
        first, last = _sample_frame().index[[0, -1]]
        raise DataUnavailable(
            f"the offline sample has no prices between {start} and {end}; it covers {first.date()} to {last.date()}"
        )
    meta = PriceMeta(
        source=_SOURCE,
        notes=("skfolio sp500 sample: real adjusted closes, stale after 2022-12-28, BSD-3",),
    )
    return PriceData(frame, meta)
