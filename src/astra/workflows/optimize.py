"""The optimiser workflow: universe or book → prices → estimators → limits and costs → solved book in shares."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra.book import Book
from astra.config import check_number
from astra.data import load_prices, returns
from astra.data.providers.sample import MARKET_TICKER
from astra.errors import InputError
from astra.funding import FundingTerms
from astra.optimize import Costs, Limits, OptimizeResult, Problem, expected_returns, risk_model, solve, violations
from astra.optimize.problems import compile_problem
from astra.workflows.common import describe_rate, resolve_rate

__all__ = ["OptimizeReport", "optimize_portfolio", "parse_band", "read_ticker_csv"]


def parse_band(text: str | None, name: str) -> tuple[float, float] | None:
    """``"0.05"`` → (−0.05, 0.05); ``"-0.1:0.2"`` → (−0.1, 0.2)."""
    if text is None:
        return None
    try:
        if ":" in str(text):
            lo, hi = (float(x) for x in str(text).split(":", 1))
        else:
            hi = abs(float(text))
            lo = -hi
    except ValueError:
        raise InputError(f"{name} {text!r}: give a half-width (0.05) or lo:hi (-0.1:0.2)") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise InputError(f"{name} {text!r}: lower must not exceed upper")
    return lo, hi


def read_ticker_csv(path, value: str, *, numeric: bool = True) -> dict[str, Any]:
    """Read ``ticker,<value>`` rows (header required); errors name the file and line."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["ticker", value]:
        raise InputError(f"{path}: header must be ticker,{value}")
    out: dict[str, Any] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2:
            raise InputError(f"{path}, line {line}: expected ticker,{value}")
        ticker = row[0].strip().upper()
        cell = row[1].strip()
        if numeric:
            try:
                out[ticker] = float(cell)
            except ValueError:
                raise InputError(f"{path}, line {line}: {value} {cell!r} is not a number") from None
            if not math.isfinite(out[ticker]):
                raise InputError(f"{path}, line {line}: {value} {cell!r} is not finite")
        else:
            out[ticker] = cell
    return out


def _known(mapping: dict, tickers: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(mapping) - set(tickers))
    if unknown:
        raise InputError(f"{what} names {', '.join(unknown)}, not in the universe ({', '.join(tickers)})")


@dataclass(frozen=True)
class OptimizeReport:
    """The optimal book in weights and in whole lots of shares, with what rounding changed."""

    result: OptimizeResult
    prices: dict[str, float]
    shares: dict[str, float]
    lot: int
    rounding: dict[str, float]
    inputs: dict[str, Any]
    frontier: list[dict[str, float]] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        frame = self.result.to_frame()
        frame["price"] = pd.Series(self.prices)
        frame["shares"] = pd.Series(self.shares)
        return frame

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.result.to_dict(),
            "shares": dict(self.shares),
            "prices": dict(self.prices),
            "lot": self.lot,
            "lot_rounding": dict(self.rounding),
            "inputs": dict(self.inputs),
            "frontier": list(self.frontier),
            "notes": list(self.notes),
        }


def _betas(prices_source, universe, start, end, benchmark, rets, offline) -> np.ndarray:
    bench = load_prices([benchmark], prices_source, start, end, offline=offline).prices[benchmark]
    market = returns(bench.to_frame()).iloc[:, 0].reindex(rets.index)
    if market.isna().any():
        raise InputError(f"benchmark {benchmark} has gaps in the estimation window; choose another window")
    m = market.to_numpy() - market.mean()
    x = rets.to_numpy() - rets.to_numpy().mean(axis=0)
    return (x.T @ m) / (m @ m)


def optimize_portfolio(
    *,
    problem: str = "meanvar",
    universe: list[str] | tuple[str, ...] = (),
    book: Book | None = None,
    source: str = "sample",
    start=None,
    end=None,
    cov: str = "lw",
    factors: int = 8,
    half_life: float = 63.0,
    mu: str | None = None,
    gross: float | None = 2.0,
    net: str | None = None,
    max_weight: float | None = None,
    long_only: bool = False,
    gamma: float = 5.0,
    vol_target: float | None = None,
    beta_band: str | None = None,
    benchmark: str = MARKET_TICKER,
    groups_file=None,
    group_net: float = 0.10,
    locates_file=None,
    alphas_file=None,
    adv_file=None,
    impact: float = 1.0,
    turnover: float | None = None,
    tc_bps: float = 10.0,
    rate: float | None = None,
    rate_source: str | None = None,
    funding_model: str | None = None,
    equity: float | None = None,
    lot: int = 1,
    gammas: list[float] | None = None,
    offline: bool = False,
) -> OptimizeReport:
    """Build and solve a portfolio problem from user-level inputs (the CLI, report and dashboard call this)."""
    notes: list[str] = []
    tickers = [t.strip().upper() for t in universe if t.strip()]
    if book is not None:
        tickers = list(dict.fromkeys([*book.tickers, *tickers]))
    if not tickers and book is None and source == "sample":
        from astra.data.providers.sample import sample_tickers

        tickers = [t for t in sample_tickers() if t != MARKET_TICKER]  # the sample's 20 stocks
        notes.append(f"no --universe: the offline sample's {len(tickers)} stocks")
    if len(tickers) < 2:
        raise InputError("give at least two tickers (--universe AAPL MSFT …) or a --book")
    if len(set(tickers)) != len(tickers):
        raise InputError("the universe lists a ticker twice")
    lot = int(check_number(lot, "--lot", minimum=1, maximum=1e6))
    if max_weight is None:  # a fully invested min-variance book must be able to reach 100 %
        max_weight = 1.0 if problem == "minvar" else 0.25
    check_number(max_weight, "--max-weight", minimum=0, exclusive_minimum=True, maximum=10)
    check_number(tc_bps, "--tc-bps", minimum=0, maximum=1000)
    data = load_prices(tickers, source, start, end, offline=offline)
    rets = returns(data.prices).dropna()
    if len(rets) < 20:
        raise InputError(f"only {len(rets)} days with prices for every name; widen --start/--end")
    model = risk_model(rets, cov, half_life=half_life, factors=min(factors, len(tickers) - 1, len(rets) - 1))
    mu_source = mu or ("zero" if problem == "minvar" else "hist")
    alphas = None
    if alphas_file is not None:
        mu_source = "alphas"
        alphas = pd.Series(read_ticker_csv(alphas_file, "alpha"))
        _known(dict(alphas), model.tickers, str(alphas_file))
    mean = expected_returns(rets, mu_source, alphas=alphas)
    band = parse_band(net, "--net") or ((1.0, 1.0) if problem == "minvar" else (-0.05, 0.05))
    lower = 0.0 if long_only else -max_weight
    limits = Limits(gross=None if long_only else gross, net=band, lower=lower, upper=max_weight, long_only=long_only)
    last = data.prices.ffill().iloc[-1]
    prices = {t: float(last[t]) for t in model.tickers}
    equity = float(equity if equity is not None else (book.equity if book is not None else 1_000_000.0))
    if beta_band is not None:
        lo, hi = parse_band(beta_band, "--beta-band")
        limits = replace(limits, beta=(_betas(source, tickers, start, end, benchmark, rets, offline), lo, hi))
    if groups_file is not None:
        mapping = read_ticker_csv(groups_file, "group", numeric=False)
        _known(mapping, model.tickers, str(groups_file))
        check_number(group_net, "--group-net", minimum=0, maximum=10)
        names = sorted(set(mapping.values()))
        groups = {
            g: (np.array([i for i, t in enumerate(model.tickers) if mapping.get(t) == g]), -group_net, group_net)
            for g in names
        }
        limits = replace(limits, groups=groups)
    if locates_file is not None:
        locates = read_ticker_csv(locates_file, "shares")
        _known(locates, model.tickers, str(locates_file))
        if any(v < 0 for v in locates.values()):
            raise InputError(f"{locates_file}: locates are share counts ≥ 0")
        caps = np.array([locates.get(t, np.inf) * prices[t] / equity for t in model.tickers])
        limits = replace(limits, max_short=caps)
    current = None
    if book is not None:
        values = dict(zip(book.tickers, book.market_values, strict=True))
        current = np.array([values.get(t, 0.0) / equity for t in model.tickers])
    if turnover is not None:
        limits = replace(limits, turnover=turnover)
    impact_coef = None
    if adv_file is not None:
        adv = read_ticker_csv(adv_file, "adv_usd")
        _known(adv, model.tickers, str(adv_file))
        missing = [t for t in model.tickers if t not in adv or adv[t] <= 0]
        if missing:
            raise InputError(f"{adv_file}: no positive ADV for {', '.join(missing)}")
        daily_vol = model.vols_ann() / np.sqrt(252)
        impact_coef = impact * daily_vol * np.sqrt(equity / np.array([adv[t] for t in model.tickers]))
    funding_rates, described = None, None
    terms = book.funding if book is not None else FundingTerms()
    if rate is not None or rate_source is not None:
        benchmark = resolve_rate(rate, rate_source, start, end, offline=offline)
        described = describe_rate(benchmark)
        funding_rates = terms.annual_rates(benchmark.last, model.tickers)
    elif book is not None or problem != "minvar":
        notes.append("no --rate or --rate-source: funding carry is left out of the objective")
    costs = Costs(funding=funding_rates, model=funding_model or terms.model, tc_bps=tc_bps, impact=impact_coef)
    spec = Problem(
        problem, model, mean, limits, costs, gamma=gamma, vol_target=vol_target, current=current, equity=equity
    )
    result = solve(spec)
    shares, rounding = _round_to_lots(spec, result.weights, prices, lot)
    sweep = []
    if gammas:
        compiled = compile_problem(spec)
        for g in sorted({float(x) for x in gammas}, reverse=True):
            check_number(g, "--frontier gamma", minimum=0, exclusive_minimum=True)
            compiled.gamma.value = g
            point = solve(compiled)
            sweep.append(
                {"gamma": g, "volatility_ann": point.volatility_ann, "expected_return_ann": point.expected_return_ann}
            )
    inputs = {
        "problem": problem,
        "source": data.meta.source,
        "start": rets.index[0].date().isoformat(),
        "end": rets.index[-1].date().isoformat(),
        "observations": len(rets),
        "covariance": cov,
        "expected_returns": mu_source,
        "net_band": list(band),
        "max_weight": max_weight,
        "benchmark_rate": described,
        "funding_model": costs.model if funding_rates is not None else None,
        "tc_bps": tc_bps,
    }
    return OptimizeReport(result, prices, shares, lot, rounding, inputs, sweep, (*data.meta.notes, *notes))


def _round_to_lots(spec: Problem, weights: np.ndarray, prices: dict, lot: int) -> tuple[dict, dict]:
    """Shares rounded to whole lots, and how far that moves the book from the optimum."""
    tickers = spec.risk.tickers
    price = np.array([prices[t] for t in tickers])
    raw = weights * spec.equity / price
    shares = np.round(raw / lot) * lot
    after = shares * price / spec.equity
    worst = max(violations(spec, after).values(), default=0.0)
    return (
        {t: float(s) for t, s in zip(tickers, shares, strict=True)},
        {
            "max_weight_drift": float(np.abs(after - weights).max()),
            "gross_after": float(np.abs(after).sum()),
            "net_after": float(after.sum()),
            "volatility_ann_after": spec.risk.volatility_ann(after),
            "max_violation_after": float(worst),
        },
    )
