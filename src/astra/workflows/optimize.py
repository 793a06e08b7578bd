"""The optimiser workflow: universe or book → prices → estimators → limits and costs → solved book in shares.

Messages name the workflow's parameters (``net``, ``max_weight``…); each interface says them in
its own words (:func:`astra.errors.rename_parameters`: the CLI's flags, the dashboard's controls).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra._io import read_text
from astra.book import Book
from astra.config import check_number
from astra.data import align_returns, load_prices, returns
from astra.data.providers.sample import MARKET_TICKER
from astra.data.tables import read_ticker_table
from astra.errors import InputError
from astra.funding import MODELS, FundingTerms
from astra.optimize import (
    COVARIANCES,
    Costs,
    Limits,
    OptimizeResult,
    Problem,
    RiskModel,
    check_scalars,
    expected_returns,
    frontier,
    risk_model,
    solve,
    violations,
)
from astra.optimize.labels import listing
from astra.workflows.common import describe_rate, resolve_rate

__all__ = [
    "OptimizeReport",
    "optimize_portfolio",
    "parse_band",
    "read_covariance_csv",
    "read_ticker_csv",
]


def parse_band(text, name: str) -> tuple[float, float] | None:
    """``"0.05"`` → (−0.05, 0.05); ``"-0.1:0.2"`` → (−0.1, 0.2); a ``(lo, hi)`` pair as given.

    A half-width below 0 is refused (``-0.1`` is not a band; write ``-0.1:0.1``).
    """
    if text is None:
        return None
    try:
        if isinstance(text, tuple | list):
            lo, hi = (float(x) for x in text)
        elif ":" in str(text):
            lo, hi = (float(x) for x in str(text).split(":", 1))
        else:
            lo, hi = -float(text), float(text)
    except (TypeError, ValueError):
        raise InputError(f"{name} {text!r}: give a half-width (0.05) or lo:hi (-0.1:0.2)") from None
    if hi < 0 and ":" not in str(text) and not isinstance(text, tuple | list):
        raise InputError(f"{name} {text!r}: a half-width must be >= 0 (for a one-sided band write lo:hi)")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise InputError(f"{name} {text!r}: give finite bounds with lower <= upper")
    return lo, hi


def read_ticker_csv(path, value: str, *, numeric: bool = True) -> dict[str, Any]:
    """Read ``ticker,<value>`` rows (header required); errors name the file, line and column.

    :func:`astra.data.tables.read_ticker_table`: UTF-8 with or without a byte-order mark,
    duplicates and non-numbers refused, listings and excerpts capped.
    """
    return read_ticker_table(path, value, numeric=numeric, what=f"{value} file")


def read_covariance_csv(path) -> pd.DataFrame:
    """A square covariance CSV: a header row of tickers, then one row per ticker (its label first)."""
    path = Path(path)
    text = read_text(path, what="covariance file")
    try:
        frame = pd.read_csv(StringIO(text), index_col=0)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise InputError(f"covariance file {path}: not a CSV table (header of tickers, one row per ticker)") from None
    values = frame.apply(pd.to_numeric, errors="coerce")
    if values.isna().to_numpy().any():
        row, col = np.argwhere(values.isna().to_numpy())[0]
        raise InputError(f"covariance file {path}: row {frame.index[row]}, column {frame.columns[col]} is not a number")
    values.index = [str(t).strip().upper() for t in values.index]
    values.columns = [str(t).strip().upper() for t in values.columns]
    return values


def _known(mapping: Mapping, tickers, what) -> None:
    unknown = sorted(set(mapping) - set(tickers))
    if unknown:
        raise InputError(f"{what} names {listing(unknown)}, not in the universe ({listing(tickers)})")


@dataclass(frozen=True)
class _TickerFiles:
    groups: dict[str, str] | None = None
    locates: dict[str, float] | None = None
    alphas: dict[str, float] | None = None
    adv: dict[str, float] | None = None
    notes: tuple[str, ...] = ()


def _read_ticker_files(tickers, groups_file, locates_file, alphas_file, adv_file) -> _TickerFiles:
    """Every ``ticker,value`` file, read and checked against the universe before any data is loaded.

    A sector map (``groups``) is a classification: names outside the universe are ignored
    (said in a note); the other files must name only the universe's tickers.
    """
    read, notes = {}, []
    specs = [("groups", groups_file, "group", False), ("locates", locates_file, "shares", True),
             ("alphas", alphas_file, "alpha", True), ("adv", adv_file, "adv_usd", True)]  # fmt: skip
    for name, path, value, numeric in specs:
        if path is not None:
            read[name] = read_ticker_csv(path, value, numeric=numeric)
            if name == "groups":
                extra = sorted(set(read[name]) - set(tickers))
                if extra:
                    notes.append(f"{path}: {listing(extra)} not in the universe, ignored")
                read[name] = {t: g for t, g in read[name].items() if t in tickers}
            _known(read[name], tickers, path)
    if any(v < 0 for v in read.get("locates", {}).values()):
        raise InputError(f"{locates_file}: locates are share counts >= 0")
    for name, path, what in (("alphas", alphas_file, "alpha"), ("adv", adv_file, "positive ADV")):
        if name in read:
            missing = [t for t in tickers if t not in read[name] or (name == "adv" and read[name][t] <= 0)]
            if missing:
                raise InputError(f"{path}: no {what} for {listing(missing)}")
    return _TickerFiles(**read, notes=tuple(notes))


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


def _betas(prices_source, start, end, market, rets, offline) -> np.ndarray:
    """Each name's OLS beta to ``market`` on the days both have a return (all of them on a common window)."""
    series = load_prices([market], prices_source, start, end, offline=offline).prices[market]
    market_returns = returns(series.to_frame()).iloc[:, 0].reindex(rets.index)
    if market_returns[rets.notna().any(axis=1)].isna().any():
        raise InputError(f"market {market} has gaps in the estimation window; choose another window")
    betas = []
    for column in rets.columns:
        both = rets[column].notna() & market_returns.notna()
        x, m = rets.loc[both, column].to_numpy(), market_returns[both].to_numpy()
        m = m - m.mean()
        betas.append(float((x - x.mean()) @ m / (m @ m)))
    return np.array(betas)


def _benchmark_fixing(rate, rate_source, start, end, offline) -> tuple[float, str]:
    """The benchmark rate's last fixing (decimal) and its description.

    A flat ``rate`` goes through the data layer's flat-rate check (``4.3`` is refused: rates are
    decimals), the same one ``load_rates("flat:R")`` applies for funding.
    """
    series = resolve_rate(rate, rate_source, start, end, offline=offline)
    return float(series.last), describe_rate(series)


def _default_max_weight(problem: str, long_only: bool, n: int) -> float:
    """1 for minvar; 0.25 for long/short books; long-only, at least 2/N so a fully invested book has room."""
    if problem == "minvar":
        return 1.0
    return max(0.25, min(1.0, 2.0 / n)) if long_only else 0.25


def _check_inputs(problem, lot, max_weight, group_net, impact, gammas, funding_model, mu) -> None:
    """The workflow's own inputs (the problem's numbers are :func:`~astra.optimize.check_scalars`), before any data."""
    if isinstance(mu, str) and mu not in ("zero", "hist"):
        raise InputError(f"mu {mu!r} is not one of zero, hist (or give alphas)")
    if funding_model is not None and funding_model not in MODELS:
        raise InputError(f"funding_model {funding_model!r} is not one of {', '.join(MODELS)}")
    check_number(lot, "lot", minimum=1, maximum=1e6)
    if int(lot) != lot:
        raise InputError(f"lot: {lot!r} must be a whole number of shares")
    if max_weight is not None:
        check_number(max_weight, "max_weight", minimum=0, exclusive_minimum=True, maximum=10)
    check_number(group_net, "group_net", minimum=0, maximum=10)
    check_number(impact, "impact", minimum=0, maximum=100)
    if gammas:
        if problem != "meanvar":
            raise InputError("frontier: a sweep of gamma needs problem meanvar")
        for g in gammas:
            check_number(g, "gammas", minimum=0, exclusive_minimum=True, maximum=1e6)


def _universe(universe, book: Book | None, source: str, cov_names: tuple | None, notes: list) -> list[str]:
    tickers = [t.strip().upper() for t in universe if t.strip()]
    if book is not None:
        tickers = list(dict.fromkeys([*book.tickers, *tickers]))
    if not tickers and cov_names is not None:
        tickers = [str(t).strip().upper() for t in cov_names]
        notes.append(f"no universe: the covariance's {len(tickers)} names")
    if not tickers and book is None and source == "sample":
        from astra.data.providers.sample import sample_tickers

        tickers = [t for t in sample_tickers() if t != MARKET_TICKER]  # the sample's 20 stocks
        notes.append(f"no universe: the offline sample's {len(tickers)} stocks")
    if len(tickers) < 2:
        raise InputError("universe: give at least two tickers, or a book")
    if len(set(tickers)) != len(tickers):
        raise InputError("universe lists a ticker twice")
    return tickers


def _covariance(cov, cov_units: str) -> tuple[pd.DataFrame | RiskModel | None, str]:
    """A user covariance (file, frame or model) and its label; None for an estimator name."""
    if cov_units not in ("daily", "annual"):
        raise InputError(f"cov_units {cov_units!r}: use daily or annual")
    given = isinstance(cov, pd.DataFrame) or str(cov).startswith("csv:")
    if cov_units != "daily" and not given:
        raise InputError("cov_units applies to a covariance you give (csv:PATH or a table), not to an estimator")
    if isinstance(cov, RiskModel | pd.DataFrame):
        return cov, "user" if isinstance(cov, pd.DataFrame) else cov.method
    text = str(cov)
    if text.startswith("csv:"):
        return read_covariance_csv(text[4:]), text
    if text not in COVARIANCES:
        raise InputError(f"cov {text!r} is not one of {', '.join(COVARIANCES)} or csv:PATH")
    return None, text


def optimize_portfolio(
    *,
    problem: str = "meanvar",
    universe: list[str] | tuple[str, ...] = (),
    book: Book | None = None,
    source: str = "sample",
    start=None,
    end=None,
    cov: str | pd.DataFrame | RiskModel = "lw",
    cov_units: str = "daily",
    factors: int = 8,
    half_life: float = 63.0,
    mu: str | pd.Series | Mapping | None = None,
    gross: float | None = 2.0,
    net: str | tuple[float, float] | None = None,
    max_weight: float | None = None,
    long_only: bool = False,
    gamma: float = 5.0,
    vol_target: float | None = None,
    return_target: float | None = None,
    beta_band: str | tuple[float, float] | None = None,
    market: str = MARKET_TICKER,
    groups_file=None,
    group_net: float = 0.10,
    locates_file=None,
    alphas_file=None,
    adv_file=None,
    impact: float = 1.0,
    turnover: float | None = None,
    tc_bps: float | None = None,
    rate: float | None = None,
    rate_source: str | None = None,
    funding_model: str | None = None,
    equity: float | None = None,
    lot: int = 1,
    gammas: list[float] | None = None,
    offline: bool = False,
    align: str = "common",
    min_overlap: int = 60,
) -> OptimizeReport:
    """Build and solve a portfolio problem from user-level inputs (the CLI, report and dashboard call this).

    Parameters
    ----------
    problem
        ``minvar`` (minimum variance; with ``return_target``, minimum risk for a required return),
        ``meanvar`` (``μᵀw − (γ/2)σ²``) or ``maxret`` (maximum return for ``vol_target``).
    cov
        An estimator (``sample``, ``lw``, ``ewma``, ``factor``), ``csv:PATH`` (a square covariance
        labelled by ticker, in ``cov_units``: ``daily`` or ``annual``), or in Python a DataFrame
        or a :class:`~astra.optimize.RiskModel`.
    mu
        ``zero``, ``hist`` (default for meanvar/maxret, warned as noise), or in Python a Series of
        annual expected returns by ticker; ``alphas_file`` (CSV ``ticker,alpha``) overrides it.
    gross, net, max_weight, long_only
        Gross limit (× equity, None for none); net band (``0.05`` = ±5 %, or ``lo:hi``; default
        :func:`~astra.optimize.default_net_band`: fully invested when long-only or minvar, else
        ±5 %); per-name cap (default 1 for minvar, 0.25 long/short, max(0.25, 2/N) long-only).
        Long-only keeps the gross limit (gross = net then).
    vol_target, return_target
        Annual volatility cap and floor on ``μᵀw`` (decimals), on any problem.
    tc_bps
        Linear trading cost in bp of traded value. None: 10 bp on the trades from ``book``, and no
        cost without a book; a number with no book charges the whole book as traded from cash.
        The result's ``trading_cost_basis`` says which.
    rate, rate_source
        Benchmark for funding carry (decimal, ``4.3`` is refused); neither: carry left out.
    market
        The market series betas are measured against (``beta_band``).
    align, min_overlap
        Names with different histories: ``common`` keeps the days where every name has a
        return (the notes say how many days that drops and which ticker limits the window);
        ``pairwise`` estimates each covariance on the pair's common days (at least
        ``min_overlap``), projected to the nearest positive semi-definite matrix, and each
        mean and beta on the name's own days (:func:`astra.data.align_returns`).
    """
    notes: list[str] = []
    gammas = [float(g) for g in gammas] if gammas else []
    check_scalars(problem, gamma=gamma, equity=equity, vol_target=vol_target, return_target=return_target,
                  gross=gross, turnover=turnover, tc_bps=tc_bps)  # fmt: skip
    _check_inputs(problem, lot, max_weight, group_net, impact, gammas, funding_model, mu)
    lot = int(lot)
    band = parse_band(net, "net")
    beta_limits = parse_band(beta_band, "beta_band")
    user_cov, cov_label = _covariance(cov, cov_units)
    user_frame = user_cov if isinstance(user_cov, pd.DataFrame) else None
    cov_names = None if user_cov is None else tuple(user_frame.index if user_frame is not None else user_cov.tickers)
    tickers = _universe(universe, book, source, cov_names, notes)
    files = _read_ticker_files(tickers, groups_file, locates_file, alphas_file, adv_file)
    fixing = described = None
    if rate is not None or rate_source is not None:
        fixing, described = _benchmark_fixing(rate, rate_source, start, end, offline)
    elif book is not None or problem != "minvar":
        notes.append("no rate or rate_source: funding carry is left out of the objective")
    if align == "pairwise" and user_cov is not None:
        raise InputError("align pairwise estimates the covariance itself; a given cov needs align common")
    data = load_prices(tickers, source, start, end, offline=offline)
    aligned = align_returns(returns(data.prices)[list(tickers)], align, min_overlap=min_overlap)
    rets = aligned.returns
    if aligned.dropped or align == "pairwise":
        notes.append(aligned.note)
    if len(rets) < 20:
        raise InputError(f"only {len(rets)} days with prices for every name; widen start/end or use align pairwise")
    if align == "pairwise":
        model = RiskModel.from_covariance(aligned.covariance(), list(rets.columns), units="daily")
        cov_label = "pairwise sample covariance, nearest positive semi-definite (Higham 2002)"
    elif user_cov is None:
        model = risk_model(rets, cov, half_life=half_life, factors=min(factors, len(tickers) - 1, len(rets) - 1))
    elif isinstance(user_cov, RiskModel):
        model = user_cov
        theirs, ours = {t.upper() for t in model.tickers}, {str(t).upper() for t in rets.columns}
        if theirs != ours:
            raise InputError(
                f"cov: the risk model's tickers differ from the universe (model only: "
                f"{listing(sorted(theirs - ours))}; universe only: {listing(sorted(ours - theirs))})"
            )
        column = {str(c).upper(): c for c in rets.columns}
        rets = rets[[column[t.upper()] for t in model.tickers]].set_axis(list(model.tickers), axis=1)
    else:
        model = RiskModel.from_covariance(user_cov, list(rets.columns), units=cov_units)
        vols = model.vols_ann()
        notes.append(
            f"covariance {cov_label} read as {cov_units}: annual volatilities {vols.min():.1%} to {vols.max():.1%}"
        )
    # A pairwise panel keeps each name's own days: filling its gaps with the name's mean leaves every mean as is.
    mean, mu_label = _expected(problem, mu, files.alphas, rets.fillna(rets.mean()), model)
    max_weight = _default_max_weight(problem, long_only, model.n) if max_weight is None else max_weight
    limits = Limits(gross=gross, net=band, lower=-max_weight, upper=max_weight, long_only=long_only)
    last = data.prices.ffill().iloc[-1]
    prices = {t: float(last[t]) for t in model.tickers}
    equity = float(equity if equity is not None else (book.equity if book is not None else 1_000_000.0))
    if beta_limits is not None:
        limits = replace(limits, beta=(_betas(source, start, end, market, rets[list(model.tickers)], offline),
                                       *beta_limits))  # fmt: skip
    if files.groups is not None:
        members = {
            g: [t for t in model.tickers if files.groups.get(t) == g] for g in sorted(set(files.groups.values()))
        }
        notes.extend(files.notes)
        limits = replace(limits, groups={g: (names, -group_net, group_net) for g, names in members.items()})
    if files.locates is not None:
        uncapped = [t for t in model.tickers if t not in files.locates]
        if uncapped:
            notes.append(f"locates: no entry (no cap on shorts) for {listing(uncapped)}")
        caps = {t: files.locates.get(t, np.inf) * prices[t] / equity for t in model.tickers}
        limits = replace(limits, max_short=caps)
    current = None
    if book is not None:
        values = dict(zip(book.tickers, book.market_values, strict=True))
        current = {t: values.get(t, 0.0) / equity for t in model.tickers}
    if turnover is not None:
        limits = replace(limits, turnover=turnover)
    impact_coef = None
    if files.adv is not None:  # c·σ_daily·√(E/ADV) per name, for the 3/2-power impact
        adv = np.array([files.adv[t] for t in model.tickers])
        impact_coef = impact * model.vols_ann() / np.sqrt(252) * np.sqrt(equity / adv)
    funding_rates = None
    terms = book.funding if book is not None else FundingTerms()
    if fixing is not None:
        funding_rates = terms.annual_rates(fixing, model.tickers)
    costs = Costs(funding=funding_rates, model=funding_model or terms.model, tc_bps=tc_bps, impact=impact_coef)
    spec = Problem(problem, model, mean, limits, costs, gamma=gamma, vol_target=vol_target, current=current,
                   equity=equity, return_target=return_target)  # fmt: skip
    if spec.trading_cost_basis == "none" and book is None and tc_bps is None:
        notes.append("no book: no trading cost charged (give tc_bps to charge building the book from cash)")
    result = solve(spec)
    shares, rounding = _round_to_lots(spec, result.weights, prices, lot)
    sweep = [
        {"gamma": point.gamma, "volatility_ann": point.volatility_ann, "expected_return_ann": point.expected_return_ann}
        for point in (frontier(spec, sorted(set(gammas))) if gammas else [])
    ]
    inputs = {
        "problem": problem,
        "source": data.meta.source,
        "start": rets.index[0].date().isoformat(),
        "end": rets.index[-1].date().isoformat(),
        "observations": len(rets),
        "covariance": cov_label,
        "cov_units": cov_units if user_frame is not None else None,
        "expected_returns": mu_label,
        "gross": gross,
        "net_band": list(spec.limits.net),
        "max_weight": max_weight,
        "long_only": long_only,
        "vol_target": vol_target,
        "return_target": return_target,
        "benchmark_rate_source": described,
        "funding_model": costs.model if funding_rates is not None else None,
        "tc_bps": spec.costs.tc_bps,
        "market_impact": impact_coef is not None,
    }
    return OptimizeReport(result, prices, shares, lot, rounding, inputs, sweep, (*data.meta.notes, *notes))


def _expected(problem: str, mu, alphas: dict | None, rets: pd.DataFrame, model: RiskModel) -> tuple[Any, str]:
    """Expected returns (annual decimals) and how they were obtained."""
    if alphas is not None:
        return expected_returns(rets[list(model.tickers)], "alphas", alphas=alphas), "alphas"
    if mu is not None and not isinstance(mu, str):
        return mu, "user"  # a Series/mapping by ticker or an array: Problem aligns and checks it
    source = mu or ("zero" if problem == "minvar" else "hist")
    return expected_returns(rets[list(model.tickers)], source), source


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
