"""The stat-arb workflow: load a pair → Kalman hedge ratio → signals → costed back-test → metrics."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from astra.config import check_number
from astra.data import calendar, load_prices
from astra.errors import InputError
from astra.funding import FundingTerms
from astra.statarb import SignalRules, backtest, fit_kalman, hold_positions, kalman_filter, metrics, sweep
from astra.statarb.kalman import KalmanResult, refilter
from astra.statarb.scan import DEFAULT_MIN_OVERLAP, ScanResult, engle_granger
from astra.statarb.sweep import SweepResult, check_grid
from astra.workflows.common import resolve_rate, write_exports

__all__ = [
    "PairLoad",
    "ScanReport",
    "StatarbReport",
    "load_pair",
    "pair_cointegration",
    "statarb_run",
    "statarb_scan",
    "statarb_sweep",
]


@dataclass(frozen=True)
class PairLoad:
    """Two aligned legs (only bars where both have a price) and where they came from."""

    y: pd.Series
    x: pd.Series
    source: str
    interval: str
    notes: tuple[str, ...]


def load_pair(x: str, y: str, *, source="sample", interval="1d", start=None, end=None, days=None,
              offline=False, seed=0) -> PairLoad:  # fmt: skip
    """Load and align the two legs of a pair; bars where either leg is missing are dropped, never filled."""
    x, y = x.strip().upper(), y.strip().upper()
    if x == y:
        raise InputError(f"the pair needs two different tickers, got {x} twice")
    if days is not None:
        check_number(days, "days", minimum=1, maximum=5000)
        last = pd.Timestamp(end) if end is not None else pd.Timestamp.today().normalize()
        window = calendar.sessions(last - pd.Timedelta(days=int(days) * 2 + 10), last)
        if len(window) == 0:
            raise InputError(f"no XNYS session up to {last.date()}")
        start = window[-min(int(days), len(window))].date().isoformat()
        end = last.date().isoformat()
    data = load_prices([x, y], source, start, end, interval=interval, offline=offline, seed=seed)
    both = data.prices[[x, y]].dropna()
    if both.empty:
        raise InputError(f"{x} and {y} have no bars in common between {start or 'the start'} and {end or 'the end'}")
    for name in (x, y):
        if both[name].nunique() < 2:
            raise InputError(f"{name} has constant prices over the window; a hedge ratio is not defined")
    dropped = len(data.prices) - len(both)
    notes = list(data.meta.notes)
    if dropped:
        notes.append(f"dropped {dropped} bars where only one leg had a price (never filled across legs)")
    return PairLoad(both[y], both[x], data.meta.source, data.meta.interval, tuple(notes))


@dataclass(frozen=True)
class StatarbReport:
    """Everything one pair run produced."""

    pair: tuple[str, str]
    source: str
    interval: str
    kalman: KalmanResult
    rules: SignalRules
    signals: pd.DataFrame
    trades: pd.DataFrame
    summary: dict[str, Any]
    elapsed_ms: float
    notes: tuple[str, ...] = ()
    files: tuple[str, ...] = field(default_factory=tuple)
    cointegration: dict[str, Any] | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.signals.copy()

    def to_dict(self) -> dict[str, Any]:
        k = self.kalman.to_dict()
        return {
            "pair": {"x": self.pair[0], "y": self.pair[1]},
            "source": self.source,
            "interval": self.interval,
            "bars": k["bars"],
            "model": k["model"],
            "params": k["params"],
            "std_errors": k["std_errors"],
            "loglik": k["loglik"],
            "cointegration": self.cointegration,
            "beta_last": k["beta_last"],
            "half_life_bars": k["half_life_bars"],
            "z_variance": k["z_variance"],
            **self.summary,
            "elapsed_ms": self.elapsed_ms,
            "trade_list": [
                {**row, "entry": str(row["entry"]), "exit": str(row["exit"])}
                for row in self.trades.to_dict(orient="records")
            ],
            "notes": list(self.notes),
            "files": list(self.files),
        }


def _kalman(pair: PairLoad, model: str, fit: str, warmup: int, q_beta: float | None, split=None) -> KalmanResult:
    """Fit on all bars, or with ``split`` on the formation bars before it, then refilter everything."""
    if fit not in ("mle", "fixed"):
        raise InputError(f"fit {fit!r} is not one of mle, fixed")
    y, x = pair.y, pair.x
    if split is not None:
        cut = int(pair.y.index.searchsorted(_as_stamp(split, pair.y.index)))
        if cut < warmup + 20 or cut >= len(pair.y) - 1:
            raise InputError(f"split {split}: needs at least {warmup + 20} formation bars before it and bars after")
        y, x = y.iloc[:cut], x.iloc[:cut]
    if fit == "mle":
        fitted = fit_kalman(y, x, model=model, warmup=warmup)
    else:
        fitted = kalman_filter(y, x, model=model, q_beta=1e-6 if q_beta is None else q_beta, warmup=warmup)
    return fitted if split is None else refilter(fitted, pair.y, pair.x)


def _as_stamp(value, index: pd.Index) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"split {value!r} is not a date") from None
    tz = getattr(index, "tz", None)
    if tz is not None and stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    return stamp


def statarb_run(
    x: str,
    y: str,
    *,
    source: str = "sample",
    interval: str = "1d",
    start=None,
    end=None,
    days: int | None = None,
    model: str = "kalman2",
    fit: str = "mle",
    q_beta: float | None = None,
    rules: SignalRules | None = None,
    cost_bps: float = 1.0,
    half_spread_bps: float = 0.0,
    capital: float = 1_000_000.0,
    dollar_neutral: bool = False,
    rate: float | None = None,
    funding: FundingTerms | None = None,
    split=None,
    out=None,
    force: bool = False,
    offline: bool = False,
    seed: int = 0,
    trend: str = "c",
    maxlag: int | None = 1,
    autolag: str | None = None,
    levels: bool = False,
) -> StatarbReport:
    """Run one pair end to end; ``out`` receives the signals and trades (CSV and Parquet).

    With ``split`` (a date) the Kalman parameters are fitted on the bars before it only,
    no position is taken before it, and the metrics cover the trading period alone:
    a walk-forward, out-of-sample result. Without it, everything is in-sample.

    ``trend``, ``maxlag``, ``autolag`` and ``levels`` set the Engle–Granger test reported
    beside the run (:func:`pair_cointegration`: on the formation bars with ``split``), with
    the meaning of :func:`astra.statarb.scan`'s. The Kalman filter works on prices either way.
    """
    rules = rules or SignalRules()
    started = time.perf_counter()
    if rate is not None:  # the funding engine's benchmark check, before any data (4.3 is percent: refused)
        rate = float(resolve_rate(rate).last)
    pair = load_pair(x, y, source=source, interval=interval, start=start, end=end, days=days, offline=offline,
                     seed=seed)  # fmt: skip
    if len(pair.y) < rules.warmup + 20:
        raise InputError(f"{len(pair.y)} common bars: fewer than the warm-up ({rules.warmup}) + 20")
    filtered = _kalman(pair, model, fit, max(rules.warmup, 5), q_beta, split)
    cointegration = pair_cointegration(pair, trend=trend, maxlag=maxlag, autolag=autolag, levels=levels, split=split)
    positions = hold_positions(filtered.zscore, rules, pair.y.index)
    if split is not None:
        cut = int(pair.y.index.searchsorted(_as_stamp(split, pair.y.index)))
        positions[: max(cut - 1, 0)] = 0  # decided at cut-1 → filled at the first trading bar
    result = backtest(
        pair.y, pair.x, filtered.beta, positions, capital=capital, cost_bps=cost_bps,
        half_spread_bps=half_spread_bps, dollar_neutral=dollar_neutral,
        funding=(funding or FundingTerms()) if rate is not None else None, rate=rate,
    )  # fmt: skip
    if split is not None:
        result = _trading_period(result, cut)
    stats = metrics(result)
    bars = result.bars
    keep = slice(len(filtered.beta) - len(bars), None)
    signals = pd.DataFrame(
        {
            "x": bars["x"], "y": bars["y"], "alpha": filtered.alpha[keep], "beta": filtered.beta[keep],
            "spread": filtered.spread[keep], "z": filtered.zscore[keep], "signal": positions[keep],
            "position_y": bars["shares_y"], "position_x": bars["shares_x"], "costs": bars["costs"],
            "funding": bars["funding"], "pnl": bars["pnl"],
        },
        index=bars.index,
    )  # fmt: skip
    signals.index.name = "timestamp"
    notes = list(pair.notes)
    if stats.note:
        notes.append(stats.note)
    if rate is None:
        notes.append("no rate: overnight financing and borrow on the legs are not charged")
    phi = filtered.params.get("phi")
    if phi is not None and phi >= 0.999:
        notes.append(f"fitted phi = {phi:.5f}: the spread is not mean reverting at this frequency; no tradable signal")
    exports = {f"{name}.{ext}": frame for name, frame in (("kalman_signals", signals), ("trades", result.trades))
               for ext in ("csv", "parquet")}  # fmt: skip
    files = list(write_exports(out, exports, force=force, job="statarb"))
    summary = stats.to_dict()
    summary.pop("note", None)
    summary["out_of_sample"] = split is not None
    if split is None:
        notes.append("in-sample: parameters fitted on the bars traded; use split (a date) for a walk-forward test")
    summary["cost_bps"] = cost_bps
    return StatarbReport(
        pair=(x.upper(), y.upper()),
        source=pair.source,
        interval=pair.interval,
        kalman=filtered,
        rules=rules,
        signals=signals,
        trades=result.trades,
        summary=summary,
        elapsed_ms=(time.perf_counter() - started) * 1e3,
        notes=tuple(notes),
        files=tuple(files),
        cointegration=cointegration,
    )


def pair_cointegration(pair: PairLoad, *, trend: str = "c", maxlag: int | None = 1, autolag: str | None = None,
                       levels: bool = False, split=None) -> dict[str, Any]:  # fmt: skip
    """Engle–Granger test of y on x over the pair's bars (the formation bars before ``split``).

    Same statistic and p-value as ``statsmodels.tsa.stattools.coint(y, x, trend=…, maxlag=…,
    autolag=…)`` on log prices (prices with ``levels``).
    """
    y, x = pair.y, pair.x
    if split is not None:
        cut = int(y.index.searchsorted(_as_stamp(split, y.index)))
        y, x = y.iloc[:cut], x.iloc[:cut]
    legs = [leg.to_numpy(dtype=float) for leg in (y, x)]
    if not levels:
        legs = [np.log(leg) for leg in legs]
    out = engle_granger(legs[0], legs[1], trend=trend, maxlag=maxlag, autolag=autolag)
    status = int(out["status"][0])
    stat = float(out["stat"][0])
    return {
        "test": "Engle-Granger (y on x)",
        "on": "formation bars" if split is not None else "all bars (in-sample)",
        "values": "prices" if levels else "log prices",
        "trend": trend,
        "maxlag": maxlag,
        "autolag": autolag,
        "lags_used": int(out["lags"][0]) if status == 0 else None,
        "bars": int(out["bars"][0]),
        "stat": stat if math.isfinite(stat) else None,
        "p_value": float(out["pvalue"][0]) if math.isfinite(out["pvalue"][0]) else None,
        "beta": float(out["beta"][0]),
        "half_life_bars": float(out["half_life"][0]) if math.isfinite(out["half_life"][0]) else None,
        "note": None if status == 0 else _eg_status(status),
    }


def _eg_status(code: int) -> str:
    from astra.statarb._eg import STATUS

    return STATUS[code]


def _trading_period(result, cut: int):
    """The back-test restricted to bars from ``cut`` on (trades entered before it cannot exist)."""
    from dataclasses import replace

    bars = result.bars.iloc[cut:]
    trades = result.trades[result.trades["entry"] >= bars.index[0]] if len(result.trades) else result.trades
    trades = trades.set_axis(pd.RangeIndex(1, len(trades) + 1, name="trade"))  # numbered within the period
    return replace(result, bars=bars, trades=trades, costs=float(bars["costs"].sum()),
                   funding=float(bars["funding"].sum()))  # fmt: skip


def statarb_sweep(
    x: str,
    y: str,
    entries="1.5:3:0.25",
    exits="0:1:0.25",
    *,
    stop: float = 4.0,
    max_hold: int = 0,
    warmup: int = 30,
    quiet_bars: int = 0,
    flat_at_close: bool = False,
    source: str = "sample",
    interval: str = "1d",
    start=None,
    end=None,
    days: int | None = None,
    model: str = "kalman2",
    fit: str = "mle",
    cost_bps: float = 1.0,
    capital: float = 1e6,
    dollar_neutral: bool = False,
    offline: bool = False,
    seed: int = 0,
) -> SweepResult:
    """The (entry, exit) grid of one pair on its fitted z-score (in-sample, and said so).

    ``entries``/``exits`` are z thresholds (sequences, or ``"start:stop:step"`` ranges); the other
    hold rules (``stop``, ``max_hold``, ``warmup``, ``quiet_bars``, ``flat_at_close``) are shared
    by every cell. Refused before any data is loaded: a grid with no cell where exit < entry,
    a stop at or below an entry, ``cost_bps`` < 0.
    """
    entries, exits = check_grid(entries, exits, stop=stop)
    check_number(cost_bps, "cost_bps", minimum=0, maximum=1000)
    check_number(capital, "capital", minimum=0, exclusive_minimum=True)
    SignalRules(entry=float(entries.max()), exit=float(exits.min()), stop=float(stop), max_hold=max_hold,
                warmup=warmup, quiet_bars=quiet_bars, flat_at_close=flat_at_close)  # fmt: skip
    pair = load_pair(x, y, source=source, interval=interval, start=start, end=end, days=days, offline=offline,
                     seed=seed)  # fmt: skip
    filtered = _kalman(pair, model, fit, max(warmup, 5), None)
    return sweep(pair.y, pair.x, filtered.beta, filtered.zscore, entries, exits, stop=stop, max_hold=max_hold,
                 warmup=warmup, quiet_bars=quiet_bars, flat_at_close=flat_at_close, capital=capital,
                 cost_bps=cost_bps, dollar_neutral=dollar_neutral)  # fmt: skip


@dataclass(frozen=True)
class ScanReport:
    """A pair scan with the data it ran on: quality report, source, notes, exported files."""

    result: ScanResult
    source: str
    interval: str
    quality: Any
    notes: tuple[str, ...]
    elapsed_ms: float
    files: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.result.to_frame()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.result.to_dict(),
            "source": self.source,
            "interval": self.interval,
            "quality": None if self.quality is None else self.quality.to_dict(),
            "notes": list(self.notes),
            "elapsed_ms": self.elapsed_ms,
            "files": list(self.files),
        }


def statarb_scan(
    tickers=None,
    *,
    universe_file=None,
    source: str = "sample",
    start=None,
    end=None,
    interval: str = "1d",
    trend: str = "c",
    maxlag: int | None = 1,
    autolag: str | None = None,
    levels: bool = False,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    fdr: float = 0.05,
    only_discoveries: bool = True,
    cluster=None,
    block: int = 5_000,
    out=None,
    force: bool = False,
    offline: bool = False,
) -> ScanReport:
    """Load prices and scan every pair (:func:`astra.statarb.scan`); all the source has when no tickers.

    ``tickers`` may be typed (space- or comma-separated) and ``universe_file`` (a CSV with a
    ``ticker`` column) adds more. The pairs run in blocks of ``block`` in-process or, with
    ``cluster``, on Dask workers (:func:`~astra.workflows.scale.scan_blocks`: the same
    numbers). ``out`` receives ``pair_scan.csv`` and ``.parquet`` (index ``rank``) as one set.
    """
    from astra.parallel import runner
    from astra.workflows.data import price_data
    from astra.workflows.scale import scan_blocks

    started = time.perf_counter()
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise InputError(f"block {block!r} must be a whole number of pairs ≥ 1")
    data = price_data(tickers or (), universe_file=universe_file, source=source, start=start, end=end,
                      interval=interval, offline=offline)  # fmt: skip
    with runner(cluster) as run:
        result = scan_blocks(data.prices, run, trend=trend, maxlag=maxlag, autolag=autolag, levels=levels,
                             min_overlap=min_overlap, fdr=fdr, block=block,
                             only_discoveries=only_discoveries)  # fmt: skip
    notes = [*data.meta.notes, *result.notes]
    files = write_exports(out, {"pair_scan.csv": result.table, "pair_scan.parquet": result.table}, force=force,
                          job="scan")  # fmt: skip
    return ScanReport(result, data.meta.source, data.meta.interval, data.quality, tuple(notes),
                      (time.perf_counter() - started) * 1e3, files)  # fmt: skip
