"""The data layer: clean, aligned prices and a funding benchmark, offline by default.

Two entry points serve every interface:

* :func:`load_prices`: tickers + source (``sample``, ``yahoo``, ``synthetic``,
  ``csv:PATH``, ``parquet:PATH``) → cleaned :class:`PriceData` with its
  :class:`DataQuality` report; Yahoo downloads are cached in the
  crash-safe :class:`~astra.data.store.PriceStore` and served from it offline.
* :func:`load_rates`: ``irx``, ``flat:R``, ``csv:PATH`` or ``synthetic`` →
  :class:`RateSeries` (decimal money-market yield on XNYS sessions).

Prices stay ragged (a later listing is NaN before its first price, counted in the
quality report as pre-listing); :func:`returns` keeps the panel and
:func:`align_returns` puts names on common days (saying what it drops and which
ticker limits the window) or estimates a pairwise covariance made positive
semi-definite.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from astra.config import SourceSpec, parse_source
from astra.data._frame import PriceData, PriceMeta, check_interval
from astra.data.clean import (
    AlignedReturns,
    DataQuality,
    align_returns,
    clean_prices,
    nearest_correlation,
    pairwise_covariance,
    returns,
)
from astra.data.rates import RateSeries, flat_rate, parse_rate_source, rate_from_csv, synthetic_rate
from astra.errors import DataUnavailable, InputError

__all__ = [
    "AlignedReturns",
    "DataQuality",
    "PriceData",
    "PriceMeta",
    "RateSeries",
    "align_returns",
    "clean_prices",
    "load_prices",
    "load_rates",
    "nearest_correlation",
    "pairwise_covariance",
    "returns",
]

_DEFAULT_LOOKBACK_DAYS = 365


def _dates(start, end, *, default_lookback: bool) -> tuple[str | None, str | None]:
    def parse(value, name):
        if value is None:
            return None
        try:
            return pd.Timestamp(value).date().isoformat()
        except (ValueError, TypeError) as exc:
            raise InputError(f"--{name} {value!r} is not a date (use YYYY-MM-DD)") from exc

    lo, hi = parse(start, "start"), parse(end, "end")
    if lo and hi and lo > hi:
        raise InputError(f"start {lo} is after end {hi}")
    if default_lookback:
        today = dt.date.today()
        hi = hi or today.isoformat()
        lo = lo or (pd.Timestamp(hi) - pd.Timedelta(days=_DEFAULT_LOOKBACK_DAYS)).date().isoformat()
    return lo, hi


def _store(store):
    if store is not None:
        return store
    from astra.data.store import PriceStore

    return PriceStore()


def _cached_or_fetch(key, fetch, *, offline: bool, store, what: str) -> PriceData:
    store = _store(store)
    if offline:
        hit = store.get(key)
        if hit is None:
            raise DataUnavailable(
                f"{what} is not in the cache ({store.root}); run once without --offline to download it"
            )
        notes = (*hit.meta.notes, f"served from cache (fetched {hit.meta.fetched_at})")
        return replace(hit, meta=replace(hit.meta, notes=notes))
    data = fetch()
    store.put(key, data)
    return data


def load_prices(
    tickers=None,
    source: str | SourceSpec = "sample",
    start=None,
    end=None,
    *,
    interval: str = "1d",
    offline: bool = False,
    clean: bool = True,
    fill_limit: int | None = None,
    store=None,
    downloader=None,
    seed: int = 0,
) -> PriceData:
    """Load close prices from any source, cleaned and aligned to XNYS.

    Parameters
    ----------
    tickers : sequence of str
        Tickers (optional for ``sample`` and files: all of them).
    source : str or SourceSpec
        ``sample`` (offline default), ``yahoo``, ``synthetic``, ``csv:PATH``, ``parquet:PATH``.
    start, end : date-like, optional
        Inclusive range.
    interval : {"1d", "1m"}
    offline : bool
        For ``yahoo``: serve from the cache only, never touch the network.
    clean : bool
        Run :func:`clean_prices` (default) and attach its quality report.

    Examples
    --------
    >>> data = load_prices(["AAPL", "JPM"], "sample", start="2022-01-01")
    >>> data.quality.rows_out  # sessions from 2022-01-03 to the sample's last day, 2022-12-28
    249
    """
    spec = source if isinstance(source, SourceSpec) else parse_source(source)
    check_interval(interval)
    names = None if tickers is None else [str(t).strip().upper() for t in tickers]
    if names is not None and (not names or any(not t for t in names)):
        raise InputError("give at least one ticker")
    if names is not None and len(set(names)) != len(names):
        dup = next(t for t in names if names.count(t) > 1)
        raise InputError(f"ticker {dup} is given twice")
    if spec.kind == "sample":
        if interval != "1d":
            raise InputError("the offline sample is daily only; use --source synthetic or yahoo for 1m")
        from astra.data.providers.sample import load_sample

        lo, hi = _dates(start, end, default_lookback=False)
        data = load_sample(names, lo, hi)
    elif spec.kind in ("csv", "parquet"):
        from astra.data.providers.files import load_file

        lo, hi = _dates(start, end, default_lookback=False)
        data = load_file(spec.path, spec.kind, tickers=names, start=lo, end=hi, interval=interval)
    elif spec.kind == "synthetic":
        data = _synthetic(names, start, end, interval, seed)
    else:  # yahoo
        if not names:
            raise InputError("--source yahoo needs tickers")
        from astra.data.store import CacheKey

        lo, hi = _dates(start, end, default_lookback=True)
        key = CacheKey("yahoo", tuple(sorted(names)), lo, hi, interval)

        def fetch() -> PriceData:
            from astra.data.providers.yahoo import fetch_yahoo

            return fetch_yahoo(names, lo, hi, interval=interval, downloader=downloader)

        data = _cached_or_fetch(key, fetch, offline=offline, store=store, what=f"yahoo {' '.join(names)}")
        data = data.with_prices(data.prices[names])
    return clean_prices(data, fill_limit=fill_limit) if clean else data


def _synthetic(names, start, end, interval: str, seed: int) -> PriceData:
    from astra.data.providers import synthetic

    if interval == "1m":
        names = names or ["SYN_X", "SYN_Y"]
        if len(names) != 2:
            raise InputError("synthetic 1-minute data is a pair: give exactly two tickers (x then y)")
        kwargs = {}
        if end is not None:
            kwargs["end"] = end
        days = 5
        if start is not None:
            from astra.data import calendar

            days = max(1, len(calendar.sessions(start, end or kwargs.get("end", "2026-11-20"))))
        return synthetic.cointegrated_pair(days, names=(names[0], names[1]), seed=seed, **kwargs).data
    names = names or ["SYN_A", "SYN_B", "SYN_C"]
    lo, hi = _dates(start, end, default_lookback=False)
    return synthetic.factor_panel(names, lo or "2020-01-01", hi or "2022-12-30", seed=seed)


def load_rates(
    source: str = "flat:0.043",
    start=None,
    end=None,
    *,
    offline: bool = False,
    store=None,
    downloader=None,
    unit: str = "percent",
    seed: int = 0,
) -> RateSeries:
    """Load a funding benchmark as a decimal money-market yield on XNYS sessions.

    Parameters
    ----------
    source : str
        ``irx`` (Yahoo ^IRX, converted from discount to yield), ``flat:R``
        (decimal), ``csv:PATH`` (percent by default, see ``unit``) or ``synthetic``.

    Examples
    --------
    >>> load_rates("flat:0.043", "2026-03-02", "2026-03-06").rates.tolist()
    [0.043, 0.043, 0.043, 0.043, 0.043]
    """
    kind, arg = parse_rate_source(source)
    if kind == "flat":
        lo, hi = _dates(start, end, default_lookback=True)
        return flat_rate(arg, lo, hi)
    if kind == "csv":
        lo, hi = _dates(start, end, default_lookback=False)
        return rate_from_csv(arg, lo, hi, unit=unit)
    if kind == "synthetic":
        lo, hi = _dates(start, end, default_lookback=True)
        return synthetic_rate(lo, hi, seed=seed)
    from astra.data.rates import rate_from_discount
    from astra.data.store import CacheKey

    lo, hi = _dates(start, end, default_lookback=True)
    key = CacheKey("yahoo", ("^IRX",), lo, hi, "1d")

    def fetch() -> PriceData:
        from astra.data.providers.yahoo import fetch_irx

        series = fetch_irx(lo, hi, downloader=downloader)
        return PriceData(series.to_frame("^IRX"), PriceMeta(source="yahoo", adjusted=False))

    data = _cached_or_fetch(key, fetch, offline=offline, store=store, what="^IRX")
    return rate_from_discount(data.prices["^IRX"], lo, hi, source="irx")
