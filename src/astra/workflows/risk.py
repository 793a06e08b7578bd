"""Risk workflows on a client book: VaR/ES, stress (incl. funding and reverse stress), VaR backtests.

The book's shares are held fixed and its names' return history comes from the data
layer; the risk engine (:mod:`astra.risk`) works on the resulting exposures and returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from astra.book import Book
from astra.config import check_number
from astra.data import align_returns, load_prices, returns
from astra.data.providers.sample import MARKET_TICKER
from astra.errors import InputError, listing
from astra.funding import carry
from astra.funding.margin import call_measure, requirements
from astra.risk import backtest_var, rolling_var_forecasts, stress_test, var
from astra.risk.var import VaRResult
from astra.workflows.book import BookInput, open_book
from astra.workflows.common import date_range, describe_rate, iso, resolve_rate, write_exports

__all__ = [
    "BookHistory",
    "RiskBacktestReport",
    "RiskVarReport",
    "StressReport",
    "book_history",
    "parse_fraction",
    "reverse_stress",
    "risk_backtest",
    "risk_stress",
    "risk_var",
    "var_options",
]


@dataclass(frozen=True)
class BookHistory:
    """A book marked on the last day of its history, and its names' daily simple returns.

    ``returns`` keeps the rows where every name has a price (the last ``window``
    of them when a window is given).
    """

    book: Book
    exposures: np.ndarray
    returns: pd.DataFrame
    market: pd.Series | None
    source: str
    marks: str = "given with the book"
    notes: tuple[str, ...] = ()

    @property
    def pnl(self) -> pd.Series:
        """Historical one-day P&L of today's book (shares fixed)."""
        return pd.Series(self.returns.to_numpy() @ self.exposures, index=self.returns.index, name="pnl")

    def describe(self) -> dict[str, Any]:
        return {
            "book": self.book.name,
            "gross": self.book.gross,
            "source": self.source,
            "marks": self.marks,
            "observations": len(self.returns),
            "history_start": self.returns.index[0].date().isoformat(),
            "history_end": self.returns.index[-1].date().isoformat(),
        }


def parse_fraction(value, name: str) -> float | None:
    """``0.5%`` or ``0.005`` as a decimal (``None`` stays ``None``); an ``InputError`` naming ``name`` otherwise."""
    if value is None or isinstance(value, int | float):
        return value
    text = str(value).strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise InputError(f"{name} {text!r}: give a fraction (0.005) or a percentage (0.5%)") from None


def var_options(method: str = "hist", *, dist: str = "normal", horizon: int = 1, level: float = 0.99,
                scenarios: int = 100_000, seed: int | None = None, scaling: str | None = None,
                vol_model: str = "ewma", paths: str = "compound", cov: str = "sample", factors: int = 8,
                antithetic: bool = False, variance_reduction: str = "auto", target_se=None,
                max_scenarios: int | None = None, components: bool = True) -> dict[str, Any]:  # fmt: skip
    """The engine options of one VaR request (only those its method uses), as every interface passes them.

    ``target_se`` may be text (``"0.5%"``): the relative standard error of VaR to stop at.
    """
    options: dict[str, Any] = {"method": method, "dist": dist, "horizon": horizon, "level": level, "scaling": scaling}
    if not components:
        options["components"] = False
    if method in ("mc", "fhs"):
        options.update(scenarios=scenarios, seed=seed)
        if variance_reduction != "auto":
            options["variance_reduction"] = variance_reduction
        if target_se is not None:
            options["target_se"] = parse_fraction(target_se, "target_se")
        if max_scenarios is not None:
            options["max_scenarios"] = max_scenarios
    if method == "fhs":
        options["vol_model"] = vol_model
    if paths != "compound":
        options["paths"] = paths
    if cov != "sample":
        options.update(covariance=cov, factors=factors)
    if antithetic:
        options["antithetic"] = True
    return options


def book_history(book: BookInput, *, source: str = "sample", start=None, end=None, window: int | None = None,
                 equity: float | None = None, offline: bool = False, min_rows: int = 30) -> BookHistory:  # fmt: skip
    """Open ``book`` marked at the last close on or before ``end`` and load its names' return history.

    The market series (the sample's S&P 500) comes along where the source has it.
    ``window`` keeps the last ``window`` days of history.
    """
    lo, hi = date_range(start, end)
    if window is not None:
        check_number(window, "window", minimum=2)
        if int(window) != window:
            raise InputError(f"window {window!r} must be a whole number of days")
    opened = open_book(book, source=source, on=hi, equity=equity, offline=offline)
    marked = opened.book
    if not marked.tickers:
        raise InputError(f"{marked.name}: the book has no positions to risk")
    names = list(marked.tickers)
    with_market = source == "sample" and MARKET_TICKER not in names
    data = load_prices([*names, MARKET_TICKER] if with_market else names, source, iso(lo), iso(hi), offline=offline)
    panel = returns(data.prices)
    aligned = align_returns(panel[names], "common")  # historical P&L needs days where every name has a return
    daily = aligned.returns
    if with_market:
        daily = daily.join(panel[MARKET_TICKER]).dropna()
    notes = [aligned.note] if aligned.dropped else []
    if window is not None:
        if window > len(daily):
            raise InputError(f"window {window} is longer than the {len(daily)} days of history")
        daily = daily.iloc[-window:]
    if len(daily) < min_rows:
        raise InputError(
            f"only {len(daily)} days where every name in {marked.name} has a price; need {min_rows} (widen start)"
        )
    market = daily[MARKET_TICKER] if with_market else None
    return BookHistory(marked, np.asarray(marked.market_values, float), daily[names], market, data.meta.source,
                       opened.marks, tuple(notes))  # fmt: skip


@dataclass(frozen=True)
class RiskVarReport:
    """VaR/ES of a book, with the historical P&L sample used to draw its distribution."""

    history: BookHistory
    result: VaRResult
    files: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.result.to_dict()["components"]).set_index("ticker")

    def exports(self) -> dict[str, pd.DataFrame]:
        return {"var_components.csv": self.to_frame()}

    def to_dict(self) -> dict[str, Any]:
        return {**self.history.describe(), **self.result.to_dict(), "notes": list(self.history.notes),
                "files": list(self.files)}  # fmt: skip


def risk_var(book: BookInput, *, source="sample", start=None, end=None, window=None, equity=None, offline=False,
             out=None, force=False, cluster=None, chunk: int | None = None, **options) -> RiskVarReport:  # fmt: skip
    """VaR/ES of ``book`` marked on ``end``'s close (``options`` go to :func:`astra.risk.var`).

    With ``cluster`` (``local`` or a scheduler address) the Monte-Carlo chunks run on Dask,
    ``chunk`` scenarios a task: the same engine, streams and merge, so the same numbers as
    in-process for a seed.
    """
    history = book_history(book, source=source, start=start, end=end, window=window, equity=equity, offline=offline)
    run_on = {} if chunk is None else {"chunk": chunk}
    if cluster is not None:
        from astra.parallel import runner

        with runner(cluster) as run:
            result = var(history.exposures, history.returns, tickers=list(history.book.tickers), runner=run,
                         **run_on, **options)  # fmt: skip
    else:
        result = var(history.exposures, history.returns, tickers=list(history.book.tickers), **run_on, **options)
    report = RiskVarReport(history, result)
    files = write_exports(out, report.exports(), force=force, job="risk-var")
    return replace(report, files=files) if files else report


def reverse_stress(book: Book, *, regime: str | None = None, lo: float = -0.99, hi: float = 10.0) -> dict[str, Any]:
    """Smallest uniform price move (down and up) at which the account's margin excess turns negative.

    The excess is measured against the requirement calls are measured against
    (:func:`astra.funding.margin.call_measure`: the account's maintenance by default).

    Every price moves by ``m``: P&L is ``net · m``, equity becomes ``E + net · m`` and the
    requirement is recomputed at the moved prices (per-share minimums included). Found by
    bisection to 1e-6; ``None`` where no move in ``[lo, hi]`` breaches.
    """
    regime = call_measure(book.margin_regime, regime)
    q, p = book.quantities, book.prices

    def excess(m: float) -> float:
        req = requirements(q, p * (1 + m))
        return book.equity + book.net * m - float(req[regime].sum())

    base = excess(0.0)
    out: dict[str, Any] = {"regime": regime, "excess_now": base}
    if base < 0:
        out.update(down=0.0, up=0.0, note="already in deficit: the account is in a margin call now")
        return out
    for side, limit in (("down", lo), ("up", hi)):
        if excess(limit) >= 0:
            out[side] = None
            continue
        a, b = 0.0, limit
        while abs(b - a) > 1e-6:
            mid = (a + b) / 2
            a, b = (mid, b) if excess(mid) >= 0 else (a, mid)
        out[side] = b
    return out


@dataclass(frozen=True)
class StressReport:
    """Scenario table (USD, % of gross), the funding-rate shock and the reverse stress."""

    history: BookHistory
    table: pd.DataFrame
    reverse: dict[str, Any]
    benchmark_rate: float
    benchmark_rate_source: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    files: tuple[str, ...] = ()

    @property
    def book(self) -> Book:
        return self.history.book

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def exports(self) -> dict[str, pd.DataFrame]:
        return {"stress_scenarios.csv": self.table, "stress_scenarios.parquet": self.table}

    def to_dict(self) -> dict[str, Any]:
        rows = [
            {"scenario": str(name), **{k: _plain(v) for k, v in row.items()}} for name, row in self.table.iterrows()
        ]
        return {**self.history.describe(), "benchmark_rate": self.benchmark_rate,
                "benchmark_rate_source": self.benchmark_rate_source, "scenarios": rows,
                "reverse_stress": self.reverse, "notes": list(self.notes), "files": list(self.files)}  # fmt: skip


def _plain(value):
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value if isinstance(value, int | str | bool) or value is None else str(value)


def risk_stress(book: BookInput, *, source="sample", start=None, end=None, equity=None, offline=False,
                rate: float | None = None, rate_source: str | None = None, rate_shock_bp: float = 100.0,
                groups: dict[str, str] | None = None, groups_file=None, sector_shock: float = -0.10,
                market_shocks=(-0.10, -0.20), squeeze: float = 0.10, out=None,
                force=False) -> StressReport:  # fmt: skip
    """Historical windows and episodes, hypothetical shocks, sector shocks, a benchmark-rate shock
    priced by the funding engine (one year of carry at the shocked rate), and reverse stress.

    The book is marked on ``end``'s close; the benchmark is the one funding uses
    (:func:`~astra.workflows.common.resolve_rate`), fixed on the same day.
    """
    check_number(rate_shock_bp, "rate_shock_bp", minimum=-1000, maximum=1000)
    check_number(sector_shock, "sector_shock", minimum=-1, maximum=10)
    if groups_file is not None:
        if groups is not None:
            raise InputError("give either groups or groups_file, not both")
        from astra.workflows.optimize import read_ticker_csv

        groups = read_ticker_csv(groups_file, "group", numeric=False)
    history = book_history(book, source=source, start=start, end=end, equity=equity, offline=offline)
    book = history.book
    day = history.returns.index[-1]
    benchmark = resolve_rate(rate, rate_source, day, day, offline=offline)
    rate = benchmark.on(day)
    market = None if history.market is None else history.market.to_numpy()
    table = stress_test(history.exposures, history.returns, market=market, market_shocks=market_shocks,
                        squeeze=squeeze)  # fmt: skip
    extra = []
    notes = []
    if groups:
        unknown = sorted(set(groups) - set(book.tickers))
        if unknown:  # a sector map is a classification: names the book does not hold are not an error
            notes.append(f"groups: {listing(unknown)} not in the book, ignored")
        groups = {t: g for t, g in groups.items() if t in book.tickers}
        for group in sorted(set(groups.values())):
            members = np.array([groups.get(t) == group for t in book.tickers])
            pnl = float(history.exposures[members].sum() * sector_shock)
            extra.append({"scenario": f"sector_{group}_{sector_shock:+.0%}", "kind": "hypothetical", "pnl": pnl,
                          "days": 0})  # fmt: skip
    shocked = rate + rate_shock_bp / 1e4
    days = 360 if book.funding.day_count == "ACT/360" else 365
    delta = carry(book, shocked, days=1).daily_carry - carry(book, rate, days=1).daily_carry
    extra.append({"scenario": f"benchmark_{rate_shock_bp:+.0f}bp_1y", "kind": "funding", "pnl": delta * days,
                  "days": days})  # fmt: skip
    added = pd.DataFrame(extra).set_index("scenario")
    added["pnl_pct_gross"] = 100.0 * added["pnl"] / book.gross if book.gross else np.nan
    table = pd.concat([table, added.reindex(columns=table.columns)])
    if history.market is None:
        notes.append("market shocks use the equal-weight average of the book's names as the market proxy")
    notes.extend(benchmark.notes)
    report = StressReport(history, table, reverse_stress(book), rate, describe_rate(benchmark), tuple(notes))
    files = write_exports(out, report.exports(), force=force, job="risk-stress")
    return replace(report, files=files) if files else report


@dataclass(frozen=True)
class RiskBacktestReport:
    """Rolling one-day forecasts against realised P&L, and the tests on them."""

    history: BookHistory
    forecasts: pd.DataFrame
    result: Any
    method: str
    window: int
    files: tuple[str, ...] = ()

    @property
    def book(self) -> Book:
        return self.history.book

    def to_frame(self) -> pd.DataFrame:
        return self.forecasts.copy()

    def to_dict(self) -> dict[str, Any]:
        return {**self.history.describe(), "method": self.method, "window": self.window, **self.result.to_dict(),
                "files": list(self.files)}  # fmt: skip


def risk_backtest(book: BookInput, *, method="hist", window=500, level=0.99, source="sample", start=None, end=None,
                  equity=None, offline=False, seed=None, out=None, force=False,
                  **options) -> RiskBacktestReport:  # fmt: skip
    """Rolling ``window``-day VaR/ES forecasts of the book (marked on ``end``) over its history, back-tested."""
    check_number(window, "window", minimum=20, maximum=5000)
    history = book_history(book, source=source, start=start, end=end, equity=equity, offline=offline,
                           min_rows=int(window) + 50)  # fmt: skip
    if method in ("mc", "fhs"):
        options.setdefault("scenarios", 5_000)
        options["seed"] = seed
    forecasts = rolling_var_forecasts(history.exposures, history.returns, method=method, window=window, level=level,
                                      **options)  # fmt: skip
    result = backtest_var(forecasts["pnl"], forecasts["var"], level, forecasts["es"], seed=seed)
    report = RiskBacktestReport(history, forecasts, result, method, int(window))
    files = write_exports(out, {"var_backtest.csv": forecasts}, force=force, job="risk-backtest")
    return replace(report, files=files) if files else report
