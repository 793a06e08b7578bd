"""The carry engine: what a book earns or pays per day under each convention.

Every convention (DESIGN.md, "Funding conventions") is expressed as a set of
*legs*: a signed balance (positive when the client receives interest on it)
accruing an annual rate ``bench · B + spread`` where ``B`` is the benchmark.
Daily carry is ``Σ balance · rate · n / 360``; a period is the same legs
accrued day by day, summed (simple) or compounded in arrears per leg. The legs
are built by one array function, :func:`funding_legs`, which the optimiser and
the stat-arb back-test call on candidate market values; there is no second copy
of a formula anywhere.

Sign convention: every amount is what the **client receives**; a cost is
negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from astra.data import calendar
from astra.data.rates import RateSeries
from astra.errors import InputError
from astra.funding.daycount import accrual_schedule, check_day_count
from astra.funding.terms import FundingRates, FundingTerms

__all__ = [
    "COMPONENTS",
    "CarryResult",
    "FundingLegs",
    "PeriodCarry",
    "accrue",
    "carry",
    "carry_of_values",
    "collateral_per_share",
    "funding_legs",
]

COMPONENTS = ("long_financing", "credit_interest", "short_rebate", "borrow_fee")
_LONG, _CREDIT, _REBATE, _FEE = range(4)
_RATE_BOUNDS = (-0.05, 0.5)


def collateral_per_share(price):
    """Stock-loan collateral per share: 102 % of the mark, rounded up to a whole dollar.

    Examples
    --------
    >>> float(collateral_per_share(317.27))  # 1.02 × 317.27 = 323.6154 → 324
    324.0
    >>> float(collateral_per_share(50.0))  # exactly 51: no rounding up
    51.0
    """
    # round first so 1.02 × 50 = 51.000000000000007 does not become 52
    return np.ceil(np.round(1.02 * np.asarray(price, dtype=float), 8))


@dataclass(frozen=True)
class FundingLegs:
    """Balances and their rates: ``annual amount = balance · (bench · B + spread)``.

    ``position`` is the index of the name a leg belongs to, ``-1`` for account
    legs (debit, credit balance).
    """

    component: np.ndarray
    position: np.ndarray
    balance: np.ndarray
    bench: np.ndarray
    spread: np.ndarray

    def rates(self, benchmark) -> np.ndarray:
        """Annual rate of each leg; ``benchmark`` scalar → (L,), array (D,) → (D, L)."""
        b = np.asarray(benchmark, dtype=float)
        return b[..., None] * self.bench + self.spread

    def annual(self, benchmark: float) -> np.ndarray:
        """Annual amount of each leg at one benchmark fixing."""
        return self.balance * self.rates(benchmark)


def _debit_slices(debit: float, rates: FundingRates) -> tuple[np.ndarray, np.ndarray]:
    """Split a debit into its marginal tier slices (balance, spread over B)."""
    lower = np.concatenate([[0.0], rates.debit_breaks[:-1]])
    sizes = np.clip(debit - lower, 0.0, rates.debit_breaks - lower)
    return sizes, rates.debit_rates - rates.benchmark


def funding_legs(
    values,
    equity: float,
    rates: FundingRates,
    model: str = "cash",
    *,
    collateral=None,
) -> FundingLegs:
    """The legs of a book with signed market values ``values`` (USD, short < 0).

    Parameters
    ----------
    values
        Signed market value of each position, USD, shape (N,).
    equity
        Client cash equity, USD.
    rates
        :meth:`FundingTerms.annual_rates` for the names of ``values``.
    model
        ``cash``, ``netted``, ``swap`` or ``seed``.
    collateral
        Stock-loan collateral of each position in USD (``|q| · ceil(1.02 p)``);
        defaults to ``1.02 · |value|`` for candidate books without share counts.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    longs = np.maximum(values, 0.0)
    shorts = np.maximum(-values, 0.0)
    lmv, smv = float(longs.sum()), float(shorts.sum())
    collateral = 1.02 * shorts if collateral is None else np.where(values < 0, np.asarray(collateral, float), 0.0)
    idx = np.arange(n)
    b = rates.benchmark
    legs: list[tuple[int, np.ndarray, np.ndarray, float, np.ndarray]] = []

    def debit(amount: float) -> None:
        sizes, spreads = _debit_slices(amount, rates)
        legs.append((_LONG, np.full(sizes.shape, -1), -sizes, 1.0, spreads))

    def credit(amount: float) -> None:
        legs.append((_CREDIT, np.array([-1]), np.array([amount]), 1.0, np.array([rates.credit_rate - b])))

    rebate_spread = np.full(n, rates.rebate_rate - b)
    if model == "cash":
        debit(max(0.0, lmv - equity))
        credit(max(0.0, equity - lmv))
        legs.append((_REBATE, idx, shorts, 1.0, rebate_spread))
        legs.append((_FEE, idx, -collateral, 0.0, rates.borrow_rates))
    elif model == "netted":
        cash = equity - lmv + smv
        debit(max(0.0, -cash))
        credit(max(0.0, cash))
        legs.append((_FEE, idx, -collateral, 0.0, rates.borrow_rates))
    elif model == "swap":
        legs.append((_LONG, idx, -longs, 1.0, np.full(n, rates.debit_rates[-1] - b)))
        credit(equity)
        legs.append((_REBATE, idx, shorts, 1.0, rebate_spread))
        legs.append((_FEE, idx, -shorts, 0.0, rates.borrow_rates))
    elif model == "seed":
        legs.append((_LONG, idx, -longs, 1.0, np.full(n, rates.debit_rates[-1] - b)))
        legs.append((_REBATE, idx, shorts, 1.0, rebate_spread))
        legs.append((_FEE, idx, -shorts, 0.0, rates.borrow_rates))
    else:
        raise InputError(f"funding model {model!r} is not one of cash, netted, swap, seed")
    return FundingLegs(
        component=np.concatenate([np.full(len(leg[1]), leg[0]) for leg in legs]),
        position=np.concatenate([leg[1] for leg in legs]),
        balance=np.concatenate([leg[2] for leg in legs]),
        bench=np.concatenate([np.full(len(leg[1]), leg[3]) for leg in legs]),
        spread=np.concatenate([leg[4] for leg in legs]),
    )


def carry_of_values(
    values,
    equity: float,
    rates: FundingRates,
    model: str = "cash",
    days: float = 1.0,
    basis: str = "ACT/360",
    *,
    collateral=None,
) -> float:
    """Carry in USD over ``days`` for a candidate book; the optimiser's check on its own objective."""
    legs = funding_legs(values, equity, rates, model, collateral=collateral)
    return float(legs.annual(rates.benchmark).sum() * days / check_day_count(basis))


def _check_rate(rate: float, where: str) -> float:
    if not isinstance(rate, int | float) or not math.isfinite(rate):
        raise InputError(f"{where}: benchmark rate {rate!r} is not a number")
    if not _RATE_BOUNDS[0] <= rate <= _RATE_BOUNDS[1]:
        raise InputError(
            f"{where}: benchmark rate {rate!r} is outside {_RATE_BOUNDS[0]:.0%}..{_RATE_BOUNDS[1]:.0%}; "
            "rates are decimals (0.0363 for 3.63 %)"
        )
    return float(rate)


def _component_sums(legs: FundingLegs, amounts: np.ndarray) -> dict[str, float]:
    return {name: float(amounts[legs.component == code].sum()) for code, name in enumerate(COMPONENTS)}


def _position_frame(book, legs: FundingLegs, amounts: np.ndarray) -> pd.DataFrame:
    """Per-position carry; an account-level debit is allocated to longs pro rata.

    Credit interest stays at the account level, so the ``carry`` column sums to
    the book's carry minus its credit interest.
    """
    values = book.market_values
    n = len(values)
    by_position = np.zeros((4, n))
    mine = legs.position >= 0
    np.add.at(by_position, (legs.component[mine], legs.position[mine]), amounts[mine])
    account_debit = amounts[(legs.component == _LONG) & ~mine].sum()
    longs = np.maximum(values, 0.0)
    if account_debit and longs.sum() > 0:
        by_position[_LONG] += account_debit * longs / longs.sum()
    frame = pd.DataFrame(
        {
            "quantity": book.quantities,
            "price": book.prices,
            "market_value": values,
            "financing": by_position[_LONG],
            "rebate": by_position[_REBATE],
            "borrow_fee": by_position[_FEE],
        },
        index=pd.Index(book.tickers, name="ticker"),
    )
    frame["carry"] = frame[["financing", "rebate", "borrow_fee"]].sum(axis=1)
    return frame


@dataclass(frozen=True)
class CarryResult:
    """One day's carry of a book (USD, positive = client receives)."""

    model: str
    benchmark_rate: float
    day: pd.Timestamp | None
    accrual_days: int
    day_count: str
    daily_carry: float
    components: dict[str, float]
    positions: pd.DataFrame
    gross: float
    negative_rebates: tuple[str, ...] = ()

    @property
    def annual_rate_on_gross(self) -> float:
        """Carry annualised (×360/n under ACT/360) as a fraction of gross; cost < 0."""
        if self.gross == 0:
            return math.nan
        return self.daily_carry * check_day_count(self.day_count) / self.accrual_days / self.gross

    def to_frame(self) -> pd.DataFrame:
        return self.positions.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "benchmark_rate": self.benchmark_rate,
            "date": None if self.day is None else self.day.date().isoformat(),
            "accrual_days": self.accrual_days,
            "day_count": self.day_count,
            "daily_carry": self.daily_carry,
            "annual_rate_on_gross": self.annual_rate_on_gross,
            "components": dict(self.components),
            "negative_rebates": list(self.negative_rebates),
            "positions": [
                {"ticker": t, **{k: float(v) for k, v in row.items()}} for t, row in self.positions.iterrows()
            ],
        }


def _accrual_day(on) -> tuple[pd.Timestamp | None, int]:
    if on is None:
        return None, 1
    day = pd.Timestamp(on).normalize()
    if not calendar.is_session(day):
        raise InputError(
            f"--date {day.date()} is not an XNYS business day; the next one is {calendar.next_session(day).date()}"
        )
    return day, calendar.accrual_days(day)


def _legs_of(book, terms: FundingTerms, benchmark: float) -> tuple[FundingLegs, FundingRates]:
    rates = terms.annual_rates(benchmark, book.tickers)
    collateral = np.abs(book.quantities) * collateral_per_share(book.prices)
    return funding_legs(book.market_values, book.equity, rates, terms.model, collateral=collateral), rates


def carry(book, rate: float, *, model: str | None = None, on=None, days: int | None = None) -> CarryResult:
    """Carry of ``book`` for one business day.

    Parameters
    ----------
    book
        An :class:`astra.Book`.
    rate
        Benchmark rate, decimal money-market yield (0.0363 for 3.63 %).
    model
        Override the book's convention (``cash``, ``netted``, ``swap``, ``seed``).
    on
        The business day accrued; sets the accrual days (Friday → 3). Without it
        (and without ``days``) one day accrues.
    days
        Accrual days, when not derived from ``on``.

    Examples
    --------
    >>> from astra import Book
    >>> book = Book.from_positions({"AAPL": 1000}, {"AAPL": 200.0}, equity=150_000)
    >>> # debit 50,000 at 4 % + 50 bp for one day: -50,000 × 0.045 / 360
    >>> round(carry(book, 0.04).daily_carry, 4)
    -6.25
    """
    terms = book.funding.with_model(model)
    benchmark = _check_rate(rate, "carry")
    day, n = _accrual_day(on)
    if days is not None:
        if on is not None:
            raise InputError("give either the accrual date or the number of days, not both")
        n = int(days)
        if not 1 <= n <= 31:
            raise InputError(f"accrual days {days!r} must be between 1 and 31")
    legs, rates = _legs_of(book, terms, benchmark)
    basis = check_day_count(terms.day_count)
    amounts = legs.annual(benchmark) * n / basis
    net_rebate = rates.rebate_rate - rates.borrow_rates * 1.02
    negative = tuple(t for t, v, r in zip(book.tickers, book.market_values, net_rebate, strict=True) if v < 0 and r < 0)
    return CarryResult(
        model=terms.model,
        benchmark_rate=benchmark,
        day=day,
        accrual_days=n,
        day_count=terms.day_count,
        daily_carry=float(amounts.sum()),
        components=_component_sums(legs, amounts),
        positions=_position_frame(book, legs, amounts),
        gross=book.gross,
        negative_rebates=negative,
    )


@dataclass(frozen=True)
class PeriodCarry:
    """Carry accrued over a period, day by day (USD, positive = client receives).

    ``marks`` says how positions were priced: re-marked at each business day's
    close, or held at the book's marks.
    """

    model: str
    start: pd.Timestamp
    end: pd.Timestamp
    compounded: bool
    total: float
    components: dict[str, float]
    daily: pd.DataFrame
    marks: str = "the book's marks, held for the whole period"

    def to_frame(self) -> pd.DataFrame:
        return self.daily.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "start": self.start.date().isoformat(),
            "end": self.end.date().isoformat(),
            "compounded": self.compounded,
            "accrual_days": int(self.daily["accrual_days"].sum()),
            "business_days": len(self.daily),
            "total": self.total,
            "components": dict(self.components),
            "marks": self.marks,
            "daily": [
                {
                    "date": d.date().isoformat(),
                    **{k: (int(v) if k == "accrual_days" else float(v)) for k, v in row.items()},
                }
                for d, row in self.daily.iterrows()
            ],
        }


def _daily_prices(book, days: pd.DatetimeIndex, marks: pd.DataFrame | None) -> np.ndarray:
    """(D, N) marks: each day's close (the last on or before it) for the columns of ``marks``, else the book's."""
    prices = np.tile(np.asarray(book.prices, dtype=float), (len(days), 1))
    if marks is None or marks.empty:
        return prices
    unknown = sorted(set(map(str, marks.columns)) - set(book.tickers))
    if unknown:
        raise InputError(f"marks given for names not in the book: {', '.join(unknown)}")
    known = marks.sort_index().ffill().reindex(days, method="ffill")
    for column in known.columns:
        values = known[column].to_numpy(dtype=float)
        if not np.all(np.isfinite(values) & (values > 0)):
            first = days[int(np.flatnonzero(~(np.isfinite(values) & (values > 0)))[0])]
            raise InputError(f"no positive close of {column} on or before {first.date()} to mark the book with")
        prices[:, book.tickers.index(str(column))] = values
    return prices


def accrue(
    book,
    rate,
    start,
    end,
    *,
    model: str | None = None,
    compounded: bool = False,
    marks: pd.DataFrame | None = None,
    marks_label: str | None = None,
) -> PeriodCarry:
    """Accrue ``book``'s carry over the business days ``start`` to ``end`` (both inclusive).

    Each business day accrues its calendar nights up to the next business day
    (a Friday 3), so a period covers the nights from ``start`` up to, not
    including, the first business day after ``end``.

    Parameters
    ----------
    book
        An :class:`astra.Book`; its quantities and account equity are held constant.
    rate
        A decimal (flat) or a :class:`~astra.data.rates.RateSeries` (the fixing in
        force each day).
    compounded
        Simple accrual sums the daily amounts; ``True`` compounds each leg in
        arrears, ``A_t = A_{t−1}(1 + r_t n_t/360) + b_t r_t n_t/360`` (with a
        constant balance, ``b · (Π(1 + r_i n_i/360) − 1)``).
    marks
        Closes by date (columns = tickers of the book): each business day is
        re-marked at its close (the last on or before it). Names without a column,
        and every name when ``marks`` is None, keep the book's marks.
    marks_label
        How the marks are described in the result (``PeriodCarry.marks``).

    Examples
    --------
    >>> from astra import Book
    >>> cash_only = Book.from_positions({}, {}, equity=360_000)
    >>> # 360,000 of free credit at 5 % − 25 bp over Mon 2026-03-02..Fri 03-06: 7 nights
    >>> round(accrue(cash_only, 0.05, "2026-03-02", "2026-03-06").total, 2)
    332.5
    """
    terms = book.funding.with_model(model)
    schedule = accrual_schedule(start, end)
    if isinstance(rate, RateSeries):
        fixings = np.array([rate.on(day) for day in schedule.days])
    else:
        fixings = np.full(len(schedule.days), _check_rate(rate, "accrue"))
    for day, value in zip(schedule.days, fixings, strict=True):
        _check_rate(float(value), f"rate on {day.date()}")
    basis = check_day_count(terms.day_count)
    prices = _daily_prices(book, schedule.days, marks)
    quantities = np.asarray(book.quantities, dtype=float)
    # The legs' spreads do not depend on the benchmark or the marks; their balances follow the marks.
    spread_rates = terms.annual_rates(float(fixings[0]), book.tickers)
    day_legs = [
        funding_legs(quantities * p, book.equity, spread_rates, terms.model,
                     collateral=np.abs(quantities) * collateral_per_share(p))
        for p in prices
    ]  # fmt: skip
    first = day_legs[0]
    balances = np.stack([legs.balance for legs in day_legs])  # (D, L)
    rates = first.rates(fixings)  # (D, L)
    periods = schedule.accrual_days[:, None] / basis
    daily_amounts = balances * rates * periods  # (D, L)
    if compounded:
        accrued = np.zeros(balances.shape[1])
        for amount, growth in zip(daily_amounts, 1.0 + rates * periods, strict=True):
            accrued = accrued * growth + amount
        leg_totals = accrued
    else:
        leg_totals = daily_amounts.sum(axis=0)
    daily = pd.DataFrame(
        {"accrual_days": schedule.accrual_days, "benchmark_rate": fixings, "carry": daily_amounts.sum(axis=1)},
        index=pd.Index(schedule.days, name="date"),
    )
    for code, name in enumerate(COMPONENTS):
        daily[name] = daily_amounts[:, first.component == code].sum(axis=1)
    daily["gross"] = np.abs(quantities * prices).sum(axis=1)
    label = marks_label or (
        "re-marked at each business day's close" if marks is not None and not marks.empty
        else "the book's marks, held for the whole period"
    )  # fmt: skip
    return PeriodCarry(
        model=terms.model,
        start=schedule.days[0],
        end=pd.Timestamp(end).normalize(),
        compounded=compounded,
        total=float(leg_totals.sum()),
        components=_component_sums(first, leg_totals),
        daily=daily,
        marks=label,
    )
